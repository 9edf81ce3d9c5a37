"""Where a user sees the model server: ``startref doctor``, the HTTP server's ``/v1/info`` and ``generator_error``,
and the CLI's ``annotate --concurrency`` — each against the real llama.cpp server, in real processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "server"))

from serverproc import free_port, start_server, stop_server  # noqa: E402

pytestmark = pytest.mark.slow


def _startref(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "startref", *args], capture_output=True, text=True, timeout=300)


def test_doctor_reports_the_servers_health_model_and_markers(llama_server) -> None:
    out = _startref("doctor", "--generator-url", llama_server.url, "--generator-api", "llamacpp", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)["generator_server"]
    assert report["status"] == "ok" and report["model"] and "smollm2" in report["model"].lower()
    assert report["markers"] == "text"  # SmolLM2's tokenizer has no [START_REF] token: the markers are plain text


def test_doctor_exits_1_and_says_why_when_the_server_is_down() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    out = _startref("doctor", "--generator-url", url, "--generator-api", "llamacpp")
    assert out.returncode == 1
    assert "down" in out.stdout and "Connection refused" in out.stdout


def test_http_server_reports_the_engine_and_falls_back_when_it_is_gone(own_llama_server, tmp_path,
                                                                      example_paper) -> None:
    path, text = example_paper
    server = start_server(["--generator-url", own_llama_server.url, "--generator-api", "llamacpp",
                           "--lm-mode", "constrained", "--generator-timeout", "120"], tmp_path / "startref.log")
    try:
        with httpx.Client(base_url=server.base_url, timeout=120) as client:
            info = client.get("/v1/info").json()
            assert info["generator"]["status"] == "ok" and info["generator"]["api"] == "llamacpp"
            body = {"text": text, "cursor": text.index("\\citep{?}") + len("\\citep{"), "path": str(path), "k": 3}
            answer = client.post("/v1/suggest", json=body).json()
            assert answer["generator_error"] is None and len(answer["candidates"]) == 3
            assert any(c["generated"] for c in answer["candidates"])

            own_llama_server.kill()
            for _ in range(3):  # failing, failing (the breaker opens), skipped: answers all the same
                answer = client.post("/v1/suggest", json=body).json()
                assert answer["generator_error"] and len(answer["candidates"]) == 3
            assert client.get("/v1/info").json()["generator"]["status"] == "down"
        log = server.log()
        assert log.count("suggestions come from the ranker alone") == 1, log  # one line for the outage
    finally:
        stop_server(server)


def test_annotate_sends_generation_requests_concurrently(llama_server, example_paper, tmp_path) -> None:
    path, _text = example_paper
    out = _startref("annotate", str(path), "--dry-run", "--json", "--concurrency", "4", "--generator-timeout", "120",
                    "--generator-url", llama_server.url, "--generator-api", "llamacpp")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["generator_error"] is None
    assert len(result["edits"]) == 2  # \\citep{?} and [CITATION]
