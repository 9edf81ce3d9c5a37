"""Shared pieces of the language-server tests: a writable copy of a real dev paper and the server command.

The paper is ContextLab/llm-stylometry from ``shared/bench`` (one .tex, one .bib, natbib ``\\citep``): copied to a
temporary folder because the editors write the file back, and the shared copy is read-only.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
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


@dataclass(frozen=True)
class EditorCase:
    """A masked paper written to disk for a real editor: the file, its text, the cursor and the editor's env."""

    tex: Path
    text: str
    cursor: int
    env: dict[str, str]


def editor_case(bench_papers: Path, tmp_path: Path, *, byte_column: bool) -> EditorCase:
    """The masked paper on disk, and STARTREF_TEX/LINE/COL/CMD for the editor scripts (COL 0-based, in bytes for
    Neovim's API, in characters for Emacs)."""
    tex = copy_paper(bench_papers, tmp_path)
    text, cursor = masked_text(tex)
    tex.write_text(text, encoding="utf-8")
    before = text[text.rfind("\n", 0, cursor) + 1 : cursor]
    env = server_env()
    env.update(STARTREF_TEX=str(tex), STARTREF_LINE=str(text.count("\n", 0, cursor) + 1),
               STARTREF_COL=str(len(before.encode("utf-8")) if byte_column else len(before)),
               STARTREF_CMD=" ".join(server_command()), HOME=str(tmp_path))
    return EditorCase(tex, text, cursor, env)


def require_editor(found: bool, message: str) -> None:
    """Skip locally when an editor is missing; FAIL under CI (a skipped real-editor test proves nothing): the
    repo-wide rule of ``tests/realtools.py``."""
    if found:
        return
    from realtools import missing_real_tool

    missing_real_tool("the real-editor LSP test", message)
