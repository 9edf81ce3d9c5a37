"""``startref suggest`` on a real bench paper: the table, ``--json``, ``--offset``, exit codes, latin-1 warning."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from startref.citations.bibindex import load_bibliography
from startref.cli.main import main

PAPER = ("eggplantbren__DNest4", "paper", "ms.tex", "ref.bib")  # CRLF line endings


@pytest.fixture()
def paper(bench_papers: Path, tmp_path: Path) -> tuple[Path, Path]:
    name, folder, tex, bib = PAPER
    target = tmp_path / name
    shutil.copytree(bench_papers / name / folder, target)
    return target / tex, target / bib


def _cursor_before(tex: Path, needle: str) -> tuple[int, int]:
    """1-based LINE:COL just before ``needle`` (the spot where the author cited)."""
    text = tex.read_bytes().decode("utf-8")
    offset = text.index(needle)
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def test_suggest_prints_a_ranked_table_and_the_edit(paper: tuple[Path, Path],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    tex, bib = paper
    line, col = _cursor_before(tex, "\\citep{feroz2009multinest}")
    assert main(["suggest", str(tex), "--at", f"{line}:{col}", "--no-generator"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{tex}:{line}:{col}  bibliography: ")
    header = next(i for i, l in enumerate(out) if l.startswith("rank"))
    assert out[header].split()[:4] == ["rank", "key", "score", "year"]
    rows = out[header + 1 : header + 6]
    keys = set(load_bibliography([bib]).keys())
    assert [r.split()[0] for r in rows] == ["1", "2", "3", "4", "5"]
    assert all(r.split()[1] in keys for r in rows)
    assert any(l.startswith(f"insert at {line}:{col}: \\") for l in out)


def test_suggest_json_and_offset_agree(paper: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    tex, bib = paper
    line, col = _cursor_before(tex, "\\citep{emcee}")
    assert main(["suggest", str(tex), "--at", f"{line}:{col}", "-k", "3", "--json", "--no-generator"]) == 0
    by_line = json.loads(capsys.readouterr().out)
    assert set(by_line) >= {"file", "cursor", "candidates", "insert", "unresolved", "bibliography", "model",
                            "timing_ms", "warnings"}
    assert by_line["cursor"]["line"] == line and by_line["cursor"]["column"] == col
    assert len(by_line["candidates"]) == 3
    assert by_line["insert"]["start"] == by_line["cursor"]["offset"]
    offset = by_line["cursor"]["offset"]
    assert main(["suggest", str(tex), "--offset", str(offset), "-k", "3", "--json", "--no-generator",
                 "--bib", str(bib)]) == 0
    by_offset = json.loads(capsys.readouterr().out)
    assert [c["key"] for c in by_offset["candidates"]] == [c["key"] for c in by_line["candidates"]]
    assert by_offset["bibliography"]["files"] == [str(bib)]


def test_suggest_warns_about_latin1(paper: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    tex, _ = paper
    tex.write_bytes(b"% caf\xe9\r\n" + tex.read_bytes())
    line, col = _cursor_before_latin1(tex, b"\\citep{emcee}")
    assert main(["suggest", str(tex), "--at", f"{line}:{col}", "--no-generator"]) == 0
    err = capsys.readouterr().err
    assert "startref: warning: " in err and "latin-1" in err and str(tex) in err


def _cursor_before_latin1(tex: Path, needle: bytes) -> tuple[int, int]:
    text = tex.read_bytes().decode("latin-1")
    offset = text.index(needle.decode("latin-1"))
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def test_suggest_empty_bibliography_is_bad_input(paper: tuple[Path, Path], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    tex, _ = paper
    empty = tmp_path / "empty.bib"
    empty.write_text("% no entries yet\n", encoding="utf-8")
    assert main(["suggest", str(tex), "--at", "90:1", "--bib", str(empty), "--no-generator"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("startref: error: ") and str(empty) in err and "Traceback" not in err


def test_suggest_without_any_bibliography_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tex = tmp_path / "lonely.tex"
    tex.write_text("\\documentclass{article}\n\\begin{document}\nAs shown by \\cite{}.\n\\end{document}\n")
    assert main(["suggest", str(tex), "--at", "3:13", "--no-generator"]) == 2
    err = capsys.readouterr().err
    assert str(tex) in err and "bibliography" in err


@pytest.mark.slow
def test_suggest_with_the_default_model_stack(paper: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped default (generator on or off as the benchmark decided) answers with real keys."""
    tex, bib = paper
    line, col = _cursor_before(tex, "\\citep{handley2015polychord}")
    assert main(["suggest", str(tex), "--at", f"{line}:{col}", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    keys = set(load_bibliography([bib]).keys())
    assert body["candidates"] and all(c["key"] in keys for c in body["candidates"])
    assert all(u not in keys for u in body["unresolved"])


def test_suggest_with_nothing_left_to_propose_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The cursor sits inside a cite that already holds the bibliography's only entry: nothing to add."""
    one = tmp_path / "one.bib"
    one.write_text("@Article{emcee,\n  title = {emcee: The MCMC Hammer},\n  author = {Foreman-Mackey, Daniel},\n"
                   "  year = 2013,\n}\n", encoding="utf-8")
    tex = tmp_path / "short.tex"
    tex.write_text("\\documentclass{article}\n\\begin{document}\nSampling \\citep{emcee, } works.\n"
                   "\\end{document}\n", encoding="utf-8")
    cursor = "3:24"
    assert main(["suggest", str(tex), "--at", cursor, "--bib", str(one), "--no-generator"]) == 1
    out = capsys.readouterr().out
    assert "no candidate found" in out
