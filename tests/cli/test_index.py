"""``startref index`` on real bench bibliographies, problems and duplicates included."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from startref.cli.main import main

DYNONET_BIB = "forgi86__dynonet/doc/paper/ms.bib"  # has a duplicate key
SYMPY_BIB = "sympy__sympy-paper/paper.bib"  # empty titles, a missing key, undefined @strings


def test_index_reports_problems_with_file_and_line(bench_papers: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    bib = tmp_path / "paper.bib"
    shutil.copy(bench_papers / SYMPY_BIB, bib)
    assert main(["index", str(bib)]) == 0
    out = capsys.readouterr().out
    assert "entries" in out
    problem_lines = [line for line in out.splitlines() if line.startswith(f"{bib}:")]
    assert len(problem_lines) >= 5
    for line in problem_lines:
        _, lineno, kind, _ = line.split(":", 3)
        assert int(lineno) >= 1
        assert kind.strip() in {"empty_title", "missing_key", "undefined_string"}
    # the reported line really is where the problem is
    text = bib.read_text(encoding="utf-8").splitlines()
    missing_key = [line for line in problem_lines if ": missing_key:" in line]
    if missing_key:
        number = int(missing_key[0].split(":")[1])
        assert text[number - 1].lstrip().startswith("@")


def test_index_json_lists_duplicates(bench_papers: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", "--json", str(bench_papers / DYNONET_BIB)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["entries"] > 10
    assert len(info["duplicate_keys"]) == 1
    assert any(p["kind"] == "duplicate_key" and p["line"] > 0 for p in info["problems"])
    assert info["unreadable"] == []


def test_index_missing_file_among_good_ones_is_reported_not_fatal(
    bench_papers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.bib"
    assert main(["index", str(bench_papers / DYNONET_BIB), str(missing)]) == 0
    captured = capsys.readouterr()
    assert f"startref: error: {missing}" in captured.err
    assert "entries" in captured.out


def test_index_exit_2_when_nothing_readable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.bib"
    junk.write_bytes(b"\x00\x01\x02PNG" * 100)
    missing = tmp_path / "missing.bib"
    assert main(["index", str(junk), str(missing)]) == 2
    err = capsys.readouterr().err
    assert str(junk) in err and str(missing) in err
    assert "Traceback" not in err


def test_index_empty_bib_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.bib"
    empty.write_text("% nothing here\n", encoding="utf-8")
    assert main(["index", str(empty)]) == 1
    assert "entries" in capsys.readouterr().out
