"""Bad input: exit 2, a message naming the file (and line), no traceback, nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from startref.cli.main import main

PAPER = "eggplantbren__DNest4"


def _paper(bench_papers: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "paper"
    shutil.copytree(bench_papers / PAPER / "paper", folder)
    return folder / "ms.tex"


def _expect_bad_input(argv: list[str], capsys: pytest.CaptureFixture[str], *names: str) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("startref: error: ")
    assert "Traceback" not in captured.err
    for name in names:
        assert name in captured.err
    return captured.err


@pytest.mark.parametrize("command", [["suggest", "--at", "1:1"], ["annotate", "--dry-run"], ["eval"]])
def test_missing_file(command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.tex"
    argv = [command[0], str(missing), *command[1:], "--no-generator"]
    _expect_bad_input(argv, capsys, str(missing))


@pytest.mark.parametrize("command", [["suggest", "--at", "1:1"], ["annotate", "--in-place"]])
def test_binary_junk_names_file_and_line(command: list[str], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "figure.tex"
    data = b"%PDF-1.5\n\n\x00\x01\x02\x03" * 50
    junk.write_bytes(data)
    err = _expect_bad_input([command[0], str(junk), *command[1:], "--no-generator"], capsys, f"{junk}:3")
    assert "binary" in err
    assert junk.read_bytes() == data
    assert not junk.with_name("figure.tex.bak").exists()


def test_cursor_outside_the_text(bench_papers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tex = _paper(bench_papers, tmp_path)
    _expect_bad_input(["suggest", str(tex), "--at", "99999:1", "--no-generator"], capsys, f"{tex}:99999:1")
    _expect_bad_input(["suggest", str(tex), "--at", "1:5000", "--no-generator"], capsys, f"{tex}:1:5000")
    _expect_bad_input(["suggest", str(tex), "--offset", "99999999", "--no-generator"], capsys, str(tex))


def test_nonexistent_bib(bench_papers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tex = _paper(bench_papers, tmp_path)
    missing = tmp_path / "missing.bib"
    for argv in (
        ["suggest", str(tex), "--at", "90:1", "--bib", str(missing)],
        ["annotate", str(tex), "--in-place", "--bib", str(missing)],
        ["eval", str(tex), "--bib", str(missing)],
    ):
        before = tex.read_bytes()
        _expect_bad_input([*argv, "--no-generator"], capsys, str(missing))
        assert tex.read_bytes() == before


def test_annotate_refuses_output_equal_to_input(bench_papers: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    tex = _paper(bench_papers, tmp_path)
    before = tex.read_bytes()
    _expect_bad_input(["annotate", str(tex), "-o", str(tex)], capsys, "--in-place")
    link = tmp_path / "link.tex"
    link.symlink_to(tex)
    _expect_bad_input(["annotate", str(tex), "-o", str(link)], capsys, str(link))
    assert tex.read_bytes() == before


def test_annotate_output_dir_missing(bench_papers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tex = _paper(bench_papers, tmp_path)
    out = tmp_path / "no" / "such" / "out.tex"
    _expect_bad_input(["annotate", str(tex), "-o", str(out)], capsys, str(tmp_path / "no" / "such"))


def test_annotate_needs_a_target(bench_papers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tex = _paper(bench_papers, tmp_path)
    _expect_bad_input(["annotate", str(tex)], capsys, "-o")
