"""Small helpers for the CLI tests: copy a real bench paper into a temporary folder and read its SOURCE.txt."""

from __future__ import annotations

import shutil
from pathlib import Path

from startref.citations.training import read_source_txt

__all__ = ["copy_paper", "source_info"]


def source_info(paper_dir: Path) -> dict[str, object]:
    """``main_tex`` and ``bib_files`` of a bench paper, as the training corpus reader parses its ``SOURCE.txt``."""
    paper = read_source_txt(paper_dir / "SOURCE.txt")
    assert paper is not None, paper_dir
    return {
        "main_tex": str(paper.main_tex.relative_to(paper_dir)),
        "bib_files": [str(b.relative_to(paper_dir)) for b in paper.bibs],
    }


def copy_paper(bench_papers: Path, name: str, tmp_path: Path) -> Path:
    """A private copy of bench paper ``name`` (tests must never write into shared/)."""
    target = tmp_path / name
    shutil.copytree(bench_papers / name, target)
    return target
