"""The HTTP contract of issue 3 against the real server: real paper, inside-cite edits, inline and edited .bib,
UTF-16 positions, concurrency, annotate, info and the OpenAPI docs."""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from startref.citations.bibindex import load_bibliography, parse_bib_text



def minimap2_case(bench_papers: Path) -> tuple[Path, str, int, str]:
    """The minimap2 paper with one real ``~\\citep{Li:2016aa}`` removed: (tex path, text, cursor, masked key)."""
    tex = bench_papers / "lh3__minimap2" / "tex" / "minimap2.tex"
    text = tex.read_text(encoding="utf-8")
    marker = "minimap~\\citep{Li:2016aa}, and furthers"
    at = text.index(marker) + len("minimap")
    citation = "~\\citep{Li:2016aa}"
    assert text[at:at + len(citation)] == citation
    return tex, text[:at] + text[at + len(citation):], at, "Li:2016aa"


def test_healthz_needs_no_token(server) -> None:
    response = httpx.get(f"{server.base_url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_real_paper_masked_citation(client: httpx.Client, bench_papers: Path) -> None:
    tex, text, cursor, masked = minimap2_case(bench_papers)
    response = client.post("/v1/suggest", json={"text": text, "cursor": cursor, "path": str(tex), "k": 10})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) >= {"candidates", "insert", "unresolved", "bibliography", "model", "timing_ms"}
    bib = load_bibliography([tex.parent / "minimap2.bib"])
    keys = [c["key"] for c in body["candidates"]]
    assert 1 <= len(keys) <= 10 and len(set(keys)) == len(keys)
    assert all(bib.get(k) is not None for k in keys), keys
    scores = [c["score"] for c in body["candidates"]]
    assert scores == sorted(scores, reverse=True)
    assert masked in keys, f"{masked} not in top 10: {keys}"
    assert body["bibliography"]["entries"] == len(bib)
    assert any(Path(f).name == "minimap2.bib" for f in body["bibliography"]["files"])
    insert = body["insert"]
    assert insert["start"] == insert["end"] == cursor
    assert re.fullmatch(r"~?\\cite[a-zA-Z]*\{" + re.escape(keys[0]) + r"\}", insert["text"]), insert
    assert body["timing_ms"]["total"] > 0


def test_inside_cite_insertion(client: httpx.Client, small_bib: str, small_keys: set[str]) -> None:
    prefix = "Residual networks and transformers changed deep learning~\\cite{vaswani2017attention, "
    text = prefix + "} and more."
    body = client.post("/v1/suggest", json={"text": text, "cursor": len(prefix), "bib_text": small_bib}).json()
    top = body["candidates"][0]["key"]
    assert top in small_keys
    assert body["insert"] == {"start": len(prefix), "end": len(prefix), "text": top}

    # keys precede and no comma (``{a |}``): the edit adds the separator right after the last key
    prefix2 = "Residual networks changed deep learning~\\cite{vaswani2017attention "
    text2 = prefix2 + "} and more."
    body2 = client.post("/v1/suggest", json={"text": text2, "cursor": len(prefix2), "bib_text": small_bib}).json()
    top2 = body2["candidates"][0]["key"]
    assert top2 != "vaswani2017attention"
    assert body2["insert"] == {"start": len(prefix2) - 1, "end": len(prefix2), "text": f", {top2}"}

    # a partly typed key is completed in place
    prefix3 = "We optimise with Adam~\\cite{vaswani2017attention, kin"
    text3 = prefix3 + "} and more."
    body3 = client.post("/v1/suggest", json={"text": text3, "cursor": len(prefix3), "bib_text": small_bib}).json()
    assert body3["candidates"][0]["key"] == "kingma2014adam"
    assert body3["insert"] == {"start": len(prefix3) - 3, "end": len(prefix3), "text": "kingma2014adam"}


def test_bib_text_inline(client: httpx.Client, small_bib: str, small_keys: set[str]) -> None:
    text = "We train with the Adam optimizer for stochastic optimization~"
    response = client.post("/v1/suggest", json={"text": text, "cursor": len(text), "bib_text": small_bib, "k": 4})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["bibliography"]["entries"] == 4
    assert {c["key"] for c in body["candidates"]} <= small_keys
    assert body["candidates"][0]["key"] == "kingma2014adam"
    assert body["candidates"][0]["title"] == "Adam: A Method for Stochastic Optimization"
    assert body["insert"]["text"].endswith("{kingma2014adam}")


def test_bib_edited_between_requests(client: httpx.Client, tmp_path: Path, small_bib: str) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(small_bib, encoding="utf-8")
    tex = tmp_path / "paper.tex"
    text = ("\\documentclass{article}\\begin{document}\n"
            "Protein structures can now be predicted from sequence~\n"
            "\\bibliography{refs}\\end{document}\n")
    tex.write_text(text, encoding="utf-8")
    cursor = text.index("sequence~") + len("sequence~")
    request = {"text": text, "cursor": cursor, "path": str(tex), "k": 5}
    first = client.post("/v1/suggest", json=request).json()
    assert first["bibliography"]["entries"] == 4
    assert "jumper2021alphafold" not in [c["key"] for c in first["candidates"]]

    with bib.open("a", encoding="utf-8") as f:
        f.write("@article{jumper2021alphafold,\n  title = {Highly accurate protein structure prediction with "
                "AlphaFold},\n  author = {Jumper, John and Evans, Richard},\n  journal = {Nature},\n"
                "  year = {2021}\n}\n")
    later = time.time() + 2  # a different mtime even on coarse-grained file systems
    os.utime(bib, (later, later))
    second = client.post("/v1/suggest", json=request).json()
    assert second["bibliography"]["entries"] == 5
    assert second["candidates"][0]["key"] == "jumper2021alphafold"


def test_position_utf16_emoji_matches_cursor(client: httpx.Client, small_bib: str) -> None:
    line0 = "Intro line with an emoji \U0001F600 before.\n"
    line1 = "Attention \U0001F916 is all you need for transformers~"
    text = line0 + line1 + "\nrest"
    cursor = len(line0) + len(line1)
    character = len(line1.encode("utf-16-le")) // 2
    assert character == len(line1) + 1  # the robot emoji is two UTF-16 units
    by_cursor = client.post("/v1/suggest", json={"text": text, "cursor": cursor, "bib_text": small_bib}).json()
    by_position = client.post("/v1/suggest", json={"text": text, "position": {"line": 1, "character": character},
                                                    "bib_text": small_bib}).json()
    assert by_position["insert"]["start"] == cursor
    assert by_position["candidates"] == by_cursor["candidates"]
    assert by_position["insert"] == by_cursor["insert"]


def test_twenty_parallel_requests_all_correct(server, bench_papers: Path) -> None:
    tex = bench_papers / "lh3__minimap2" / "tex" / "minimap2.tex"
    text = tex.read_text(encoding="utf-8")
    cursors = [m.start() for m in re.finditer(r"~\\citep\{", text)][:20]
    cursors += [len(text) // 2 + i * 97 for i in range(20 - len(cursors))]
    payloads = [{"text": text, "cursor": c, "path": str(tex), "k": 5} for c in cursors]
    with server.client() as c:
        expected = [c.post("/v1/suggest", json=p).json() for p in payloads]

    def call(payload: dict) -> dict:
        with server.client() as c:
            r = c.post("/v1/suggest", json=payload)
            assert r.status_code == 200, r.text
            return r.json()

    with ThreadPoolExecutor(max_workers=20) as pool:
        got = list(pool.map(call, payloads))
    for want, have in zip(expected, got):
        assert [x["key"] for x in have["candidates"]] == [x["key"] for x in want["candidates"]]
        assert have["insert"] == want["insert"]


def test_annotate_fills_placeholders(client: httpx.Client, small_bib: str) -> None:
    text = ("We optimise with Adam, a method for stochastic optimization \\cite{?}.\n"
            "Residual learning for image recognition [CITATION] made deep networks trainable.\n")
    response = client.post("/v1/annotate", json={"text": text, "bib_text": small_bib})
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["edits"]) == 2
    first, second = body["edits"]
    assert (first["line"], second["line"]) == (1, 2)
    assert first["old"] == "\\cite{?}" and text[first["start"]:first["end"]] == first["old"]
    assert first["new"] == "\\cite{kingma2014adam}"
    assert second["old"] == "[CITATION]" and text[second["start"]:second["end"]] == "[CITATION]"
    assert second["new"] == f"\\cite{{{second['candidates'][0]['key']}}}"
    expected = text
    for edit in sorted(body["edits"], key=lambda e: e["start"], reverse=True):
        expected = expected[:edit["start"]] + edit["new"] + expected[edit["end"]:]
    assert body["text"] == expected

    kept = client.post("/v1/annotate", json={"text": text, "bib_text": small_bib, "keep_k": 2}).json()
    assert all(1 <= len(e["candidates"]) <= 2 for e in kept["edits"])
    assert [ln.count("% startref:") for ln in kept["text"].splitlines()] == [1, 1]


def test_info_lists_models_and_cached_bibliographies(client: httpx.Client, bench_papers: Path) -> None:
    tex, text, cursor, _ = minimap2_case(bench_papers)
    assert client.post("/v1/suggest", json={"text": text, "cursor": cursor, "path": str(tex)}).status_code == 200
    info = client.get("/v1/info").json()
    assert info["version"]
    assert info["device"] == "cpu"
    assert isinstance(info["models"], dict) and info["models"]
    assert any("minimap2.bib" in str(b) for b in info["bibliographies"]), info["bibliographies"]
    assert info["server"]["token_required"] is True


def test_openapi_documents_the_contract(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/v1/suggest", "/v1/annotate", "/v1/info", "/healthz"} <= set(spec["paths"])
    request_schema = spec["components"]["schemas"]["SuggestRequest"]["properties"]
    assert {"text", "cursor", "position", "path", "bib", "bib_text", "k"} <= set(request_schema)
    response_schema = spec["components"]["schemas"]["SuggestResponse"]["properties"]
    assert {"candidates", "insert", "unresolved", "bibliography", "model", "timing_ms"} <= set(response_schema)
    assert client.get("/docs").status_code == 200


def test_one_log_line_per_request(server, client: httpx.Client, small_bib: str) -> None:
    """Each request logs method, path, status, latency, entries and whether the index came from the cache."""
    bib = small_bib + f"\n@misc{{fresh{time.time_ns()}, title = {{A bibliography no request has sent before}}}}\n"
    text = "Attention is all you need~"
    for _ in range(2):
        assert client.post("/v1/suggest", json={"text": text, "cursor": len(text), "bib_text": bib}).status_code == 200
    time.sleep(0.3)
    lines = [ln for ln in server.log().splitlines() if "POST /v1/suggest 200" in ln]
    pattern = r"POST /v1/suggest 200 \d+\.\dms entries=5 bib_ms=[\d.]+ cache={} candidates=5$"
    assert re.search(pattern.format("miss"), lines[-2]), lines[-2:]
    assert re.search(pattern.format("hit"), lines[-1]), lines[-2:]


@pytest.mark.parametrize("k", [1, 50])
def test_k_bounds_accepted(client: httpx.Client, k: int, small_bib: str) -> None:
    text = "Attention is all you need~"
    body = client.post("/v1/suggest", json={"text": text, "cursor": len(text), "bib_text": small_bib, "k": k}).json()
    assert len(body["candidates"]) == min(k, 4)
    assert parse_bib_text(small_bib).get(body["candidates"][0]["key"]) is not None


@pytest.mark.parametrize("command", ["citet", "\\citet"])
def test_command_overrides_the_dominant_one(client: httpx.Client, small_bib: str, command: str) -> None:
    text = "As shown by~\\cite{he2016deep}, we train with the Adam optimizer for stochastic optimization~"
    body = client.post("/v1/suggest", json={"text": text, "cursor": len(text), "bib_text": small_bib,
                                            "command": command}).json()
    assert body["insert"]["text"] == f"\\citet{{{body['candidates'][0]['key']}}}"
