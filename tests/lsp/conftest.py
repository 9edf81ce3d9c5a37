"""Shared pieces of the language-server tests: a writable copy of a real dev paper and the server command.

The paper is ContextLab/llm-stylometry from ``shared/bench`` (one .tex, one .bib, natbib ``\\citep``): copied to a
temporary folder because the editors write the file back, and the shared copy is read-only.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

PAPER_ID = "ContextLab__llm-stylometry"
#: A real citation of the paper and its keys: masked in the completion test.
MASKED_CITE = r"\citep{HuanEtal25,UcheEtal20}"
GOLD = {"HuanEtal25", "UcheEtal20"}


def server_command() -> list[str]:
    """``startref lsp`` as editors start it, with the interpreter running the tests."""
    return [sys.executable, "-m", "startref", "lsp"]


def server_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


def copy_paper(bench_papers: Path, dest: Path) -> Path:
    """Copy the paper's folder to ``dest``; returns the main .tex path."""
    src = bench_papers / PAPER_ID / "paper"
    target = dest / "paper"
    shutil.copytree(src, target)
    for path in target.rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)
    target.chmod(0o755)
    return target / "main.tex"


def masked_text(main_tex: Path) -> tuple[str, int]:
    """The paper with ``MASKED_CITE`` emptied to ``\\citep{}`` and the cursor offset inside its braces."""
    text = main_tex.read_text(encoding="utf-8")
    at = text.index(MASKED_CITE)
    masked = text[:at] + r"\citep{}" + text[at + len(MASKED_CITE):]
    return masked, at + len(r"\citep{")


@pytest.fixture(scope="session")
def editor_required() -> bool:
    """Under CI a missing editor is a failure, not a skip (a skipped real-editor test proves nothing)."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
