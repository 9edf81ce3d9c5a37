"""FIFOs and symlink loops on the command line: a named error at once, never a hang or "not found" (issue #11)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("command, name, words", [
    (["index", "f.bib"], "f.bib", "FIFO"),
    (["index", "loop.bib"], "loop.bib", "symbolic link loop"),
    (["suggest", "f.tex", "--at", "1:1"], "f.tex", "FIFO"),
    (["suggest", "loop.tex", "--at", "1:1"], "loop.tex", "symbolic link loop"),
    (["annotate", "f.tex", "--dry-run"], "f.tex", "FIFO"),
])
def test_special_files_are_named_errors(tmp_path: Path, command: list[str], name: str, words: str) -> None:
    os.mkfifo(tmp_path / "f.bib")
    os.mkfifo(tmp_path / "f.tex")
    (tmp_path / "loop.bib").symlink_to("loop.bib")
    (tmp_path / "loop.tex").symlink_to("loop.tex")
    try:
        done = subprocess.run([sys.executable, "-m", "startref", *command], cwd=tmp_path, capture_output=True,
                              text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"startref {' '.join(command)} blocked")
    assert done.returncode == 2
    assert done.stderr.startswith(f"startref: error: {name}: ") and words in done.stderr
    assert "Traceback" not in done.stderr and "not found" not in done.stderr
