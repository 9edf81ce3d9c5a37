"""Every error code the server answers with, each from a real request to the real server.

Each answer must be ``{"error": {"code", "message"}}`` with the documented status, and the message must name the
file when a file is at fault: an editor shows it as is.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

TEXT = "Attention is all you need~"


@pytest.mark.parametrize("payload, mentions", [
    ({"cursor": 1}, "text"),
    ({"text": TEXT}, "cursor"),
    ({"text": TEXT, "cursor": 1, "position": {"line": 0, "character": 1}}, "exactly one"),
    ({"text": TEXT, "cursor": -1}, "cursor"),
    ({"text": TEXT, "cursor": 1, "k": 0}, "k"),
    ({"text": TEXT, "cursor": 1, "k": 51}, "k"),
    ({"text": TEXT, "cursor": "end"}, "cursor"),
    ({"text": TEXT, "position": {"line": 0}}, "character"),
    ({"text": TEXT, "cursor": 1, "bib": "refs.bib"}, "bib"),
    ({"text": TEXT, "cursor": 1, "command": "cite}{evil"}, "command"),
])
def test_invalid_request(client: httpx.Client, assert_error, payload: dict, mentions: str) -> None:
    assert_error(client.post("/v1/suggest", json=payload), 422, "invalid_request", mentions)


def test_malformed_json_is_invalid_request(client: httpx.Client, assert_error) -> None:
    response = client.post("/v1/suggest", content=b'{"text": "a", "cursor": ',
                           headers={"Content-Type": "application/json"})
    assert_error(response, 422, "invalid_request", "JSON")


def test_cursor_out_of_range(client: httpx.Client, assert_error, small_bib: str) -> None:
    payload = {"text": TEXT, "cursor": len(TEXT) + 1, "bib_text": small_bib}
    assert_error(client.post("/v1/suggest", json=payload), 422, "cursor_out_of_range")


def test_position_out_of_range(client: httpx.Client, assert_error, small_bib: str) -> None:
    payload = {"text": TEXT, "position": {"line": 5, "character": 0}, "bib_text": small_bib}
    assert_error(client.post("/v1/suggest", json=payload), 422, "cursor_out_of_range")
    payload = {"text": TEXT, "position": {"line": 0, "character": 500}, "bib_text": small_bib}
    assert_error(client.post("/v1/suggest", json=payload), 422, "cursor_out_of_range")


def test_bibliography_file_not_found(client: httpx.Client, assert_error, tmp_path: Path) -> None:
    missing = tmp_path / "missing.bib"
    payload = {"text": TEXT, "cursor": 3, "bib": [str(missing)]}
    assert_error(client.post("/v1/suggest", json=payload), 404, "bibliography_not_found", "missing.bib")


def test_nothing_discovered_is_bibliography_not_found(client: httpx.Client, assert_error, tmp_path: Path) -> None:
    tex = tmp_path / "lonely.tex"
    text = "\\documentclass{article}\\begin{document}" + TEXT + "\\end{document}"
    tex.write_text(text, encoding="utf-8")
    payload = {"text": text, "cursor": text.index("~") + 1, "path": str(tex)}
    assert_error(client.post("/v1/suggest", json=payload), 404, "bibliography_not_found", "lonely.tex")


def test_bibliography_empty(client: httpx.Client, assert_error, tmp_path: Path) -> None:
    empty = tmp_path / "empty.bib"
    empty.write_text("% no entries yet\n", encoding="utf-8")
    payload = {"text": TEXT, "cursor": 3, "bib": [str(empty)]}
    assert_error(client.post("/v1/suggest", json=payload), 400, "bibliography_empty", "empty.bib")
    payload = {"text": TEXT, "cursor": 3, "bib_text": "% nothing here\n"}
    assert_error(client.post("/v1/suggest", json=payload), 400, "bibliography_empty")


def test_bibliography_unreadable(client: httpx.Client, assert_error, tmp_path: Path) -> None:
    binary = tmp_path / "binary.bib"
    binary.write_bytes(b"\x00\x01\x02PK\x03\x04" * 200)
    payload = {"text": TEXT, "cursor": 3, "bib": [str(binary)]}
    assert_error(client.post("/v1/suggest", json=payload), 400, "bibliography_unreadable", "binary.bib")
    folder = tmp_path / "folder.bib"
    folder.mkdir()
    payload = {"text": TEXT, "cursor": 3, "bib": [str(folder)]}
    assert_error(client.post("/v1/suggest", json=payload), 400, "bibliography_unreadable", "folder.bib")


def test_forbidden_path(client: httpx.Client, assert_error, tmp_path: Path) -> None:
    assert_error(client.post("/v1/suggest", json={"text": TEXT, "cursor": 3, "path": "/etc/passwd"}),
                 400, "forbidden_path", "/etc/passwd")
    assert_error(client.post("/v1/suggest", json={"text": TEXT, "cursor": 3, "bib": ["/etc/shadow"]}),
                 400, "forbidden_path", "/etc/shadow")
    # a .bib name that is a link to another kind of file is refused too (checked after resolving links)
    link = tmp_path / "sneaky.bib"
    link.symlink_to("/etc/passwd")
    assert_error(client.post("/v1/suggest", json={"text": TEXT, "cursor": 3, "bib": [str(link)]}),
                 400, "forbidden_path", "sneaky.bib")
    assert_error(client.post("/v1/annotate", json={"text": TEXT, "path": "/root/.ssh/id_rsa"}),
                 400, "forbidden_path")


def test_payload_too_large_by_content_length(client: httpx.Client, assert_error) -> None:
    big = "x" * (8 * 1024 * 1024 + 10)
    response = client.post("/v1/suggest", json={"text": big, "cursor": 0})
    assert_error(response, 413, "payload_too_large", "limit")


def test_payload_too_large_streamed_without_length(client: httpx.Client, assert_error) -> None:
    def chunks():
        yield b'{"text": "'
        for _ in range(9):
            yield b"x" * (1024 * 1024)
        yield b'", "cursor": 0}'

    response = client.post("/v1/suggest", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "payload_too_large")


def test_large_but_allowed_body_is_accepted(client: httpx.Client, small_bib: str) -> None:
    """A whole book (~6 MB of text) stays under the 8 MB limit and is answered."""
    text = ("A paragraph about attention and residual networks. " * 20 + "\n\n") * 6000 + TEXT
    assert len(text.encode()) > 6_000_000
    response = client.post("/v1/suggest", json={"text": text, "cursor": len(text), "bib_text": small_bib})
    assert response.status_code == 200, response.text[:500]


def test_bibliography_too_large(client: httpx.Client, assert_error, tmp_path: Path) -> None:
    huge = tmp_path / "huge.bib"
    with huge.open("wb") as f:
        f.truncate(20 * 1024 * 1024 + 1)
    payload = {"text": TEXT, "cursor": 3, "bib": [str(huge)]}
    assert_error(client.post("/v1/suggest", json=payload), 413, "bibliography_too_large", "huge.bib")


def test_unknown_route_and_wrong_method(client: httpx.Client, assert_error) -> None:
    assert_error(client.get("/v1/nothing"), 404, "not_found")
    assert_error(client.get("/v1/suggest"), 405, "method_not_allowed")
