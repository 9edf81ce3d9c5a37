"""HTTP plumbing against a scripted loopback HTTP server: retries with backoff, the deadline, 4xx vs 5xx, the token.

A scripted server isolates what a real engine cannot be made to do on cue (answer 503 exactly twice, hang); the
same client talks to the real llama.cpp server in ``test_remote_llamacpp.py``.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from startref.citations.remote.client import Deadline, EngineClient
from startref.citations.remote.config import RemoteConfig
from startref.citations.remote.errors import GeneratorRequestError, GeneratorUnavailable


class Script:
    """What the server answers next: a list of (status, body, delay_s); the last one repeats."""

    def __init__(self) -> None:
        self.steps: list[tuple[int, object, float]] = [(200, {"ok": True}, 0.0)]
        self.seen: list[dict] = []


@pytest.fixture()
def scripted() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            script.seen.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                "body": json.loads(body) if body else None})
            status, payload, delay = script.steps.pop(0) if len(script.steps) > 1 else script.steps[0]
            time.sleep(delay)
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up first

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", script
    server.shutdown()
    server.server_close()


def test_transient_errors_are_retried_with_backoff(scripted: tuple[str, Script]) -> None:
    url, script = scripted
    script.steps = [(503, {"error": {"message": "loading"}}, 0.0), (503, {}, 0.0), (200, {"ok": 1}, 0.0)]
    client = EngineClient(RemoteConfig(url=url, retries=2, backoff_s=0.05))
    started = time.monotonic()
    assert client.post("/v1/completions", {"prompt": "x"}) == {"ok": 1}
    assert len(script.seen) == 3
    assert time.monotonic() - started >= 0.05 + 0.1  # two pauses, the second twice the first


def test_a_refused_request_is_not_retried_and_carries_the_servers_message(scripted: tuple[str, Script]) -> None:
    url, script = scripted
    script.steps = [(400, {"error": {"message": "Only no echo is supported"}}, 0.0)]
    client = EngineClient(RemoteConfig(url=url, retries=3))
    with pytest.raises(GeneratorRequestError, match="HTTP 400.*Only no echo is supported"):
        client.post("/v1/completions", {"echo": True})
    assert len(script.seen) == 1


def test_the_deadline_bounds_a_hanging_server(scripted: tuple[str, Script]) -> None:
    url, script = scripted
    script.steps = [(200, {"late": True}, 3.0)]
    client = EngineClient(RemoteConfig(url=url, timeout_s=0.4, retries=5))
    started = time.monotonic()
    with pytest.raises(GeneratorUnavailable, match="no answer within 0.4s"):
        client.post("/v1/completions", {"prompt": "x"}, deadline=Deadline(0.4))
    assert time.monotonic() - started < 1.5


def test_a_closed_port_fails_fast_after_its_retries() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = EngineClient(RemoteConfig(url=f"http://127.0.0.1:{port}", retries=2, backoff_s=0.01))
    started = time.monotonic()
    with pytest.raises(GeneratorUnavailable, match="unavailable"):
        client.get("/v1/models")
    assert time.monotonic() - started < 2.0


def test_the_token_goes_in_the_authorization_header_and_urls_are_normalised(
    scripted: tuple[str, Script], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, script = scripted
    monkeypatch.setenv("STARTREF_GENERATOR_TOKEN", "s3cret")
    config = RemoteConfig(url=url + "/v1/")
    assert config.url == url and "s3cret" not in repr(config)
    EngineClient(config).get("/v1/models")
    assert script.seen[0] == {"path": "/v1/models", "auth": "Bearer s3cret", "body": None}


def test_bad_configuration_is_refused_with_the_flag_name() -> None:
    with pytest.raises(ValueError, match="--generator-url"):
        RemoteConfig(url="localhost:8080")
    with pytest.raises(ValueError, match="--generator-api"):
        RemoteConfig(url="http://h:1", api="tgi")


def test_the_remote_generator_fulfils_the_generator_contract() -> None:
    from startref.citations.generation import Generator
    from startref.citations.remote import RemoteGenerator

    assert isinstance(RemoteGenerator(RemoteConfig(url="http://127.0.0.1:9")), Generator)


def test_the_engine_answers_from_the_ranker_when_the_server_is_down(repo_root) -> None:
    from startref.citations.engine import Engine, EngineConfig

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = repo_root / "examples" / "resnet" / "paper.tex"
    text = path.read_text(encoding="utf-8")
    cursor = text.index("\\citep{?}") + len("\\citep{")
    down = Engine(EngineConfig(remote=RemoteConfig(url=f"http://127.0.0.1:{port}", api="llamacpp", backoff_s=0.01)))
    result = down.suggest(text, cursor, path=path, k=5)
    plain = Engine(EngineConfig(use_generator=False)).suggest(text, cursor, path=path, k=5)
    assert result.generator_error and "Connection refused" in result.generator_error
    assert [c.key for c in result.candidates] == [c.key for c in plain.candidates]
    assert result.to_dict()["generator_error"] == result.generator_error
    assert plain.to_dict()["generator_error"] is None
