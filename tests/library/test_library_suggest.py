"""The library in the real paths: the engine, ``startref suggest|annotate --library`` and a real server process.

A paper (the bundled ResNet example's .bib) writes about gamma-ray bursts, which only the library (a real
astronomy bibliography from shared/train) covers: library entries must be proposed with ``in_bib: false``, their
source and a ``bib_edit`` that really appends them; the paper's own entries keep their order; nothing is added
twice; a broken library never breaks the paper's own suggestions.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from startref.citations.bibindex import clear_cache, load_bibliography
from startref.citations.engine import Engine, EngineConfig
from startref.citations.library import BibEdit, apply_append

REPO = Path(__file__).resolve().parents[2]
TEXT = ("\\documentclass{article}\\begin{document}\n"
        "Deep residual networks~\\cite{he2016deep} are not what we use here. Gamma-ray bursts observed by the "
        "INTEGRAL SPI spectrometer were fitted with the Band function \\cite{?}.\n"
        "\\bibliography{refs}\\end{document}\n")


@pytest.fixture()
def paper(tmp_path: Path) -> Path:
    (tmp_path / "refs.bib").write_bytes((REPO / "examples" / "resnet" / "refs.bib").read_bytes())
    tex = tmp_path / "paper.tex"
    tex.write_text(TEXT, encoding="utf-8")
    clear_cache()
    return tex


@pytest.fixture(scope="module")
def engine(train_library: Path) -> Engine:
    return Engine(EngineConfig(use_generator=False, library=(str(train_library),)))


def _cursor() -> int:
    return TEXT.index("\\cite{?}") + len("\\cite{")


def test_library_entries_are_marked_and_carry_a_bib_edit_that_applies(engine: Engine, paper: Path,
                                                                       train_library: Path) -> None:
    s = engine.suggest(TEXT, _cursor(), path=paper, k=10)
    lib = [c for c in s.candidates if not c.in_bib]
    assert lib, [c.key for c in s.candidates]
    assert all(c.source == f"bib:{train_library}" and c.bib_edit for c in lib)
    assert all(c.source.endswith("refs.bib") for c in s.candidates if c.in_bib)
    assert s.candidates[0].in_bib is False and s.bib_edit == s.candidates[0].bib_edit  # goes with `insert`
    assert s.insert is not None and s.candidates[0].key in s.insert.text
    edit = BibEdit(**s.bib_edit)  # type: ignore[arg-type]
    assert edit.file == str(paper.parent / "refs.bib")
    before = load_bibliography([paper.parent / "refs.bib"])
    apply_append(edit.file, edit)
    clear_cache()
    after = load_bibliography([paper.parent / "refs.bib"])
    assert len(after) == len(before) + 1 and after.get(s.candidates[0].key) is not None
    again = engine.suggest(TEXT, _cursor(), path=paper, k=10)
    same = [c for c in again.candidates if c.key == s.candidates[0].key]
    assert same and same[0].in_bib and same[0].bib_edit is None  # now in the .bib: proposed from there, once
    assert [c.title for c in again.candidates].count(s.candidates[0].title) == 1


def test_the_papers_own_entries_keep_their_order(engine: Engine, paper: Path) -> None:
    alone = Engine(EngineConfig(use_generator=False)).suggest(TEXT, _cursor(), path=paper, k=16)
    merged = engine.suggest(TEXT, _cursor(), path=paper, k=50)
    own = [c.key for c in merged.candidates if c.in_bib]
    assert own == [c.key for c in alone.candidates][: len(own)]


def test_a_library_key_the_paper_uses_for_another_work_gets_a_new_key(engine: Engine, paper: Path) -> None:
    s = engine.suggest(TEXT, _cursor(), path=paper, k=10)
    top = s.candidates[0]
    bib = paper.parent / "refs.bib"
    bib.write_text(bib.read_text(encoding="utf-8") + f"\n@misc{{{top.key},\n  title = {{Something Else Entirely, "
                   "Not The Library One}},\n  year = {2001}\n}\n", encoding="utf-8")
    clear_cache()
    again = engine.suggest(TEXT, _cursor(), path=paper, k=10)
    moved = [c for c in again.candidates if c.title == top.title]
    assert moved and not moved[0].in_bib and moved[0].key != top.key
    assert moved[0].bib_edit is not None and f"{{{moved[0].key}," in moved[0].bib_edit["text"]


def test_a_broken_library_warns_and_the_paper_bib_still_answers(paper: Path, tmp_path: Path) -> None:
    broken = tmp_path / "zotero.sqlite"
    broken.write_bytes(b"SQLite format 3\x00" + b"\xff" * 8000)
    eng = Engine(EngineConfig(use_generator=False, library=(str(broken),)))
    s = eng.suggest(TEXT, _cursor(), path=paper, k=5)
    assert s.candidates and all(c.in_bib for c in s.candidates)
    assert s.warnings and str(broken) in s.warnings[0] and "library not used" in s.warnings[0]


def _cli(*args: str, env_cache: Path) -> subprocess.CompletedProcess[str]:
    import os

    env = dict(os.environ, STARTREF_CACHE_DIR=os.environ.get("STARTREF_CACHE_DIR", str(env_cache)),
               XDG_CONFIG_HOME=str(env_cache / "config"))
    return subprocess.run([sys.executable, "-m", "startref", *args], capture_output=True, text=True, env=env,
                          timeout=600)


def test_cli_suggest_marks_library_rows_and_annotate_writes_both_files(paper: Path, train_library: Path,
                                                                        tmp_path: Path) -> None:
    line = TEXT.count("\n", 0, _cursor()) + 1
    col = _cursor() - TEXT.rfind("\n", 0, _cursor())
    out = _cli("suggest", str(paper), "--at", f"{line}:{col}", "--library", str(train_library), env_cache=tmp_path)
    assert out.returncode == 0, out.stderr
    assert " * " in out.stdout or "* " in out.stdout
    assert "* from your library — will be added to refs.bib" in out.stdout
    js = json.loads(_cli("suggest", str(paper), "--at", f"{line}:{col}", "--library", str(train_library), "--json",
                         env_cache=tmp_path).stdout)
    assert js["candidates"][0]["in_bib"] is False and js["bib_edit"]["file"].endswith("refs.bib")

    bib = paper.parent / "refs.bib"
    old_bib, old_tex = bib.read_bytes(), paper.read_bytes()
    dry = _cli("annotate", str(paper), "--library", str(train_library), "--dry-run", env_cache=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "+++ b/" in dry.stdout and dry.stdout.count("+++ ") == 2 and "refs.bib" in dry.stdout
    assert bib.read_bytes() == old_bib and paper.read_bytes() == old_tex
    done = _cli("annotate", str(paper), "--library", str(train_library), "--in-place", env_cache=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "from your library to" in done.stdout
    assert (paper.parent / "refs.bib.bak").read_bytes() == old_bib
    new_bib = bib.read_bytes()
    assert new_bib.startswith(old_bib) and len(new_bib) > len(old_bib)
    key = js["candidates"][0]["key"]
    assert f"\\cite{{{key}}}" in paper.read_text(encoding="utf-8") and f"{{{key}," in new_bib.decode("utf-8")
    twice = _cli("annotate", str(paper), "--library", str(train_library), "--in-place", env_cache=tmp_path)
    assert twice.returncode == 0 and bib.read_bytes() == new_bib  # idempotent


def test_server_returns_bib_edit(paper: Path, train_library: Path, tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "tests" / "server"))
    from serverproc import start_server, stop_server  # type: ignore[import-not-found]

    from startref.server.schemas import SuggestResponse

    server = start_server(["--no-generator", "--threads", "1", "--library", str(train_library)],
                          tmp_path / "server.log")
    try:
        with server.client() as client:
            body = {"text": TEXT, "cursor": _cursor(), "path": str(paper), "k": 5}
            r = client.post("/v1/suggest", json=body)
            assert r.status_code == 200, r.text
            data = r.json()
            SuggestResponse.model_validate(data)
            assert data["candidates"][0]["in_bib"] is False and data["bib_edit"]["file"] == str(paper.parent / "refs.bib")
            assert data["bib_edit"]["text"].lstrip().startswith("@")
            off = client.post("/v1/suggest", json={**body, "library": False}).json()
            assert all(c["in_bib"] for c in off["candidates"]) and off["bib_edit"] is None
    finally:
        stop_server(server)
