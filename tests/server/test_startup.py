"""Start-up paths: a model that is not there (503 ``model_not_found``, the server stays up to say why), the
command line, and the default configuration (with the LM when the shipped default uses it)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from startref.server.app import create_app
from startref.server.settings import ServerSettings
from serverproc import free_port, start_server, stop_server


@pytest.fixture
def in_process_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """A uvicorn server in a thread running ``create_app(settings)`` (settings from the test's parameter)."""
    settings: ServerSettings = request.param
    settings = settings.with_changes(port=free_port())
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=settings.port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{settings.port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.mark.parametrize("in_process_server, missing", [
    (ServerSettings(no_generator=True, model_dir="/nonexistent/startref-ranker"), "/nonexistent/startref-ranker"),
    (ServerSettings(model="/nonexistent/startref-model"), "/nonexistent/startref-model"),
], indirect=["in_process_server"], ids=["model_dir", "model"])
def test_missing_model_is_reported_not_crashed(in_process_server: str, missing: str, assert_error) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        response = httpx.get(f"{in_process_server}/healthz")
        if response.json()["error"]["code"] != "not_ready":
            break
        time.sleep(0.1)
    assert_error(response, 503, "model_not_found", missing)
    suggest = httpx.post(f"{in_process_server}/v1/suggest", json={"text": "x", "cursor": 0, "bib_text": "@misc{a,}"})
    assert_error(suggest, 503, "model_not_found")


def test_command_line_help_and_bad_flags() -> None:
    help_text = subprocess.run([sys.executable, "-m", "startref.server", "--help"], capture_output=True, text=True)
    assert help_text.returncode == 0
    for flag in ("--host", "--port", "--model", "--device", "--no-generator", "--allow-origin", "--token",
                 "--workers", "--threads", "--log-level"):
        assert flag in help_text.stdout
    bad = subprocess.run([sys.executable, "-m", "startref.server", "--device", "tpu"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--device" in bad.stderr and "Traceback" not in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "startref.server", "--workers", "0"], capture_output=True, text=True)
    assert bad.returncode == 2 and "workers" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.slow
def test_default_configuration_answers(tmp_path: Path, bench_papers: Path) -> None:
    """The shipped default (generator on if the benchmark chose it) starts and answers a real paper."""
    server = start_server([], tmp_path / "default.log")
    try:
        tex = bench_papers / "lh3__minimap2" / "tex" / "minimap2.tex"
        text = tex.read_text(encoding="utf-8")
        cursor = text.index("minimap~\\citep{Li:2016aa}") + len("minimap")
        response = httpx.post(f"{server.base_url}/v1/suggest", json={"text": text, "cursor": cursor,
                                                                     "path": str(tex)}, timeout=120)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["candidates"] and body["insert"]["start"] == cursor
        info = httpx.get(f"{server.base_url}/v1/info").json()
        assert info["models"]["encoder"]
        assert ("generator" in body["model"]) and ("generator" in info["models"])
    finally:
        stop_server(server)


def test_requests_during_model_loading_wait_for_the_models(tmp_path: Path, small_bib: str, assert_error) -> None:
    """While models load, /healthz says 503 not_ready and a suggestion request waits instead of failing."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(tmp_path / "server.log", "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "startref.server", "--port", str(port), "--no-generator"],
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        first = None
        while first is None and time.monotonic() < deadline:
            try:
                first = httpx.get(f"{base}/healthz", timeout=2)
            except httpx.TransportError:
                time.sleep(0.02)
        assert first is not None, (tmp_path / "server.log").read_text()
        assert_error(first, 503, "not_ready")  # torch alone takes seconds to import: the socket opens first
        text = "We optimise with Adam, a method for stochastic optimization~"
        early = httpx.post(f"{base}/v1/suggest", json={"text": text, "cursor": len(text), "bib_text": small_bib},
                           timeout=120)
        assert early.status_code == 200, early.text
        assert early.json()["candidates"][0]["key"] == "kingma2014adam"
        assert httpx.get(f"{base}/healthz").status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=15)
