"""Small helpers for the CLI tests: copy a real bench paper into a temporary folder and read its SOURCE.txt."""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["copy_paper", "source_info"]


def source_info(paper_dir: Path) -> dict[str, object]:
    """``main_tex`` and ``bib_files`` of a bench paper, parsed from its ``SOURCE.txt``."""
    main = ""
    bibs: list[str] = []
    section = ""
    for line in (paper_dir / "SOURCE.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("main_tex:"):
            main = line.split(":", 1)[1].strip()
        elif line.endswith(":") and not line.startswith(" "):
            section = line[:-1]
        elif line.startswith("  ") and section == "bib_files":
            bibs.append(line.strip())
        elif not line.startswith(" "):
            section = ""
    return {"main_tex": main, "bib_files": bibs}


def copy_paper(bench_papers: Path, name: str, tmp_path: Path) -> Path:
    """A private copy of bench paper ``name`` (tests must never write into shared/)."""
    target = tmp_path / name
    shutil.copytree(bench_papers / name, target)
    return target
