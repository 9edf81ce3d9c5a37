"""``POST /v1/check`` on the real server process: a real paper from disk, an unsaved buffer, an inline
bibliography, the same JSON as ``startref check --json``, and the error contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from startref.server.schemas import CheckResponse


@pytest.fixture(scope="module")
def paper(bench_papers: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The introduction of the real minimap2 paper with its real .bib, plus a cite of a key the .bib lacks."""
    source = bench_papers / "lh3__minimap2" / "tex"
    folder = tmp_path_factory.mktemp("check-endpoint")
    lines = (source / "minimap2.tex").read_text(encoding="utf-8").splitlines()[:104]
    lines += ["Minimap2 itself is described elsewhere~\\citep{Li:2018abc}.", "\\bibliography{minimap2}",
              "\\end{document}", ""]
    (folder / "minimap2.tex").write_text("\n".join(lines), encoding="utf-8")
    (folder / "minimap2.bib").write_bytes((source / "minimap2.bib").read_bytes())
    return folder / "minimap2.tex"


def _codes(body: dict) -> list[tuple[str, str | None]]:
    return [(f["code"], f["key"]) for f in body["findings"]]


def test_check_a_paper_on_disk(client: httpx.Client, paper: Path) -> None:
    response = client.post("/v1/check", json={"path": str(paper)})
    assert response.status_code == 200, response.text
    body = response.json()
    CheckResponse.model_validate(body)
    assert body["summary"]["citations"] == 8 and body["summary"]["checked"] >= 14
    assert ("undefined_key", "Li:2018abc") in _codes(body)
    undefined = next(f for f in body["findings"] if f["code"] == "undefined_key")
    assert undefined["location"]["file"] == str(paper)  # absolute: the client does not share our directory
    text = paper.read_text(encoding="utf-8")
    assert text[undefined["location"]["offset"] : undefined["location"]["end_offset"]] == "Li:2018abc"
    assert all(f["severity"] in ("error", "warning") for f in body["findings"])  # min_severity defaults to warning
    info = client.post("/v1/check", json={"path": str(paper), "min_severity": "info"}).json()
    assert any(f["code"] == "unused_entry" for f in info["findings"])


def test_an_unsaved_buffer_is_checked_not_the_file(client: httpx.Client, paper: Path) -> None:
    on_disk = paper.read_text(encoding="utf-8")
    buffer = on_disk.replace("\\citep{Li:2018abc}", "\\citep{Li:2018ab, Roberts:2004xx}")
    body = client.post("/v1/check", json={"path": str(paper), "text": buffer}).json()
    keys = [key for code, key in _codes(body) if code == "undefined_key"]
    assert keys == ["Roberts:2004xx"]
    found = next(f for f in body["findings"] if f["key"] == "Roberts:2004xx")
    assert buffer[found["location"]["offset"] : found["location"]["end_offset"]] == "Roberts:2004xx"
    assert found["replacements"][0]["text"] == "Roberts:2004fv"
    assert paper.read_text(encoding="utf-8") == on_disk


def test_text_and_inline_bibliography_without_a_file(client: httpx.Client, small_bib: str) -> None:
    text = ("Deep residual networks~\\cite{he2016deep} are trained with Adam~\\cite{kingma2014adam}; "
            "attention~\\cite{vaswani2017atention} is all you need.")
    response = client.post("/v1/check", json={"text": text, "bib_text": small_bib, "sensitivity": "high"})
    assert response.status_code == 200, response.text
    body = response.json()
    undefined = [f for f in body["findings"] if f["code"] == "undefined_key"]
    assert [f["key"] for f in undefined] == ["vaswani2017atention"]
    assert undefined[0]["replacements"][0]["text"] == "vaswani2017attention"
    assert body["sensitivity"] == "high" and body["summary"]["checked"] == 2


def test_the_server_answers_what_the_command_line_prints(client: httpx.Client, paper: Path) -> None:
    served = client.post("/v1/check", json={"path": str(paper), "sensitivity": "high"}).json()
    done = subprocess.run([sys.executable, "-m", "startref", "check", str(paper), "--json", "--sensitivity", "high"],
                          capture_output=True, text=True, timeout=600, env=dict(os.environ))
    assert done.returncode == 1, done.stderr
    printed = json.loads(done.stdout)
    for body in (served, printed):
        body.pop("timing_ms")
    assert printed == served


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({}, 422, "invalid_request"),
        ({"path": "/etc/passwd"}, 400, "forbidden_path"),
        ({"text": "See \\cite{a}.", "sensitivity": "extreme"}, 422, "invalid_request"),
        ({"text": "See \\cite{a}."}, 404, "bibliography_not_found"),
        ({"text": "See \\cite{a}.", "bib_text": "@comment{nothing}"}, 400, "bibliography_empty"),
    ],
)
def test_errors_follow_the_contract(client: httpx.Client, payload: dict, status: int, code: str) -> None:
    response = client.post("/v1/check", json=payload)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_a_missing_document_is_named(client: httpx.Client, tmp_path: Path) -> None:
    response = client.post("/v1/check", json={"path": str(tmp_path / "gone.tex")})
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "file_unreadable" and "gone.tex" in body["message"]


def test_the_endpoint_needs_the_token(server, paper: Path) -> None:
    with server.client(auth=False) as anonymous:
        assert anonymous.post("/v1/check", json={"path": str(paper)}).status_code == 401
