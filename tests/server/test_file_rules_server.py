"""Every path a request makes the real server open follows one rule set, however it was named (issue #11).

The reproducers of the hostile test: a document whose ``\\addbibresource`` names a non-.bib file, an existence
oracle (a forbidden file vs a missing one), a 30 MB .bib, FIFOs, lone surrogates and NUL in a request, and too
many placeholders for one /v1/annotate.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from pathlib import Path

import httpx
import pytest

from startref.server.security import TokenAndBodyLimit

CITE = "Long reads~\\citep{}."


def _doc(resource: str) -> str:
    return f"\\addbibresource{{{resource}}}\n{CITE}"


def _suggest_doc(client: httpx.Client, folder: Path, text: str) -> httpx.Response:
    return client.post("/v1/suggest", json={"text": text, "cursor": len(text) - 2, "path": str(folder / "paper.tex")})


def test_a_document_cannot_name_a_non_bib_file(client: httpx.Client, assert_error, tmp_path: Path) -> None:
    secret = tmp_path / "credentials.txt"
    secret.write_text("@misc{leak, title = {the secret first line}}\n")
    response = _suggest_doc(client, tmp_path, _doc(str(secret)))
    assert_error(response, 404, "bibliography_not_found", "credentials.txt")
    assert "secret first line" not in response.text
    files = [b["file"] for b in client.get("/v1/info").json()["bibliographies"]]
    assert str(secret) not in files


def test_forbidden_and_missing_files_answer_the_same(client: httpx.Client, tmp_path: Path) -> None:
    existing = tmp_path / "exists.txt"
    existing.write_text("x")
    answers = []
    for name in (str(existing), str(tmp_path / "absent.txt"), "/etc/shadow", "/etc/no-such-file-xyz"):
        response = _suggest_doc(client, tmp_path, _doc(name))
        answers.append((response.status_code, response.json()["error"]["code"],
                        response.json()["error"]["message"].replace(name, "NAME")))
    assert len(set(answers)) == 1, answers
    assert answers[0][:2] == (404, "bibliography_not_found")


def test_input_of_a_non_tex_file_is_not_followed(client: httpx.Client, assert_error, tmp_path: Path) -> None:
    (tmp_path / "refs.bib").write_text("@misc{found, title = {Reached through a non-.tex input}}\n")
    (tmp_path / "preamble").write_text("\\bibliography{refs}\n")  # not a .tex: the server must not read it
    text = f"\\input{{{tmp_path / 'preamble'}}}\n{CITE}"
    # without the input the document names no bibliography; refs.bib is then the only .bib beside it (a guess)
    (tmp_path / "other.bib").write_text("@misc{other, title = {Another}}\n")
    assert_error(_suggest_doc(client, tmp_path, text), 404, "bibliography_not_found")


def test_a_huge_bib_named_by_the_document_is_refused(client: httpx.Client, assert_error, tmp_path: Path) -> None:
    huge = tmp_path / "huge.bib"
    with huge.open("wb") as f:
        f.truncate(30 * 1024 * 1024)
    assert_error(_suggest_doc(client, tmp_path, _doc("huge.bib")), 413, "bibliography_too_large", "huge.bib")


def test_fifos_never_hold_the_workers(server, client: httpx.Client, assert_error, tmp_path: Path,
                                      small_bib: str) -> None:
    fifo = tmp_path / "f.bib"
    os.mkfifo(fifo)
    answers: list[httpx.Response] = []

    def send(payload: dict) -> None:
        with server.client() as c:
            answers.append(c.post("/v1/suggest", json=payload, timeout=30))

    fifo_requests = [{"text": CITE, "cursor": 3, "bib": [str(fifo)]},
                     {"text": _doc("f.bib"), "cursor": 3, "path": str(tmp_path / "paper.tex")},
                     {"text": CITE, "cursor": 3, "bib": [str(fifo)]}]
    threads = [threading.Thread(target=send, args=(p,), daemon=True) for p in fifo_requests]
    for t in threads:
        t.start()
    normal = client.post("/v1/suggest", json={"text": CITE, "cursor": 3, "bib_text": small_bib}, timeout=30)
    for t in threads:
        t.join(30)
    try:
        assert normal.status_code == 200
        assert len(answers) == 3
        for response in answers:
            assert response.status_code in (400, 404), response.text
        unreadable = [r for r in answers if r.status_code == 400]
        assert unreadable and all(r.json()["error"]["code"] == "bibliography_unreadable" and "FIFO" in r.text
                                  for r in unreadable)
    finally:
        for _ in range(3):  # free a server thread that an old build would have left blocked in open()
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                os.close(fd)
            except OSError:
                pass


@pytest.mark.parametrize("field", ["text", "bib_text", "bib", "path", "command"])
def test_lone_surrogates_anywhere_are_422(client: httpx.Client, assert_error, field: str) -> None:
    payload: dict = {"text": "abc  def~\\cite{}", "cursor": 3, "bib_text": "@misc{a, title={A}}"}
    value = {"text": "abc \ud800 def~\\cite{}", "bib_text": "@misc{a, title={\udc80}}", "bib": ["a\ud800.bib"],
             "path": "/tmp/\ud800.tex", "command": "cite\udfff"}[field]
    payload[field] = value
    body = json.dumps(payload).encode()  # ensure_ascii: the surrogate travels as a \\udXXX escape, as from a client
    response = client.post("/v1/suggest", content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 422, "invalid_request", "surrogate")


def test_nul_in_text_is_binary_input(client: httpx.Client, assert_error, small_bib: str) -> None:
    text = "first line\nsecond \x00 line~\\cite{}"
    assert_error(client.post("/v1/suggest", json={"text": text, "cursor": 5, "bib_text": small_bib}),
                 400, "binary_input", ":2")
    assert_error(client.post("/v1/annotate", json={"text": text, "bib_text": small_bib}), 400, "binary_input")


def test_annotate_caps_placeholders_per_request(client: httpx.Client, small_bib: str) -> None:
    limits = client.get("/v1/info").json()["server"]
    cap = limits["max_placeholders"]
    text = "".join(f"Attention and residual networks matter~\\cite{{?}}.\n" for _ in range(cap + 10))
    first = client.post("/v1/annotate", json={"text": text, "bib_text": small_bib}, timeout=120).json()
    assert 1 <= len(first["edits"]) <= cap and first["warnings"]
    second = client.post("/v1/annotate", json={"text": first["text"], "bib_text": small_bib}, timeout=120).json()
    assert second["edits"]  # the rest is filled by sending the new text again


def test_a_slow_body_is_cut_off() -> None:
    """A client that declares a Content-Length and stops sending gets 408 instead of holding the connection."""
    reached_app = []

    async def app(scope, receive, send):  # the route would run only with a whole body
        reached_app.append(True)

    sent: list[dict] = []

    async def receive():
        if not sent and not reached_app and not getattr(receive, "first", False):
            receive.first = True  # type: ignore[attr-defined]
            return {"type": "http.request", "body": b'{"text": "', "more_body": True}
        await asyncio.sleep(3600)  # the rest never comes

    async def send(message):
        sent.append(message)

    guard = TokenAndBodyLimit(app, token=None, max_body_bytes=1000, body_timeout_s=0.3)
    scope = {"type": "http", "method": "POST", "path": "/v1/suggest", "headers": [(b"content-length", b"100")]}
    asyncio.run(asyncio.wait_for(guard(scope, receive, send), 10))
    assert not reached_app
    assert sent[0]["status"] == 408
    assert json.loads(sent[1]["body"])["error"]["code"] == "request_timeout"
