"""Real Neovim from Debian (0.7.2), headless, completing a masked citation of a real paper through ``startref lsp``.

The Lua script (editor-extension/neovim/test/complete_top_item.lua) uses only what Neovim ships: the built-in
client, ``buf_request_sync`` for completion, ``apply_text_edits`` for the top item, ``:write``. The test reads
the saved file back. Without ``nvim`` the test skips locally and FAILS under CI (``make test`` installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import GOLD, copy_paper, masked_text, server_command, server_env

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "editor-extension" / "neovim" / "test" / "complete_top_item.lua"


def test_neovim_completes_and_saves_the_top_item(bench_papers: Path, tmp_path: Path, editor_required: bool) -> None:
    nvim = shutil.which("nvim")
    if nvim is None:
        message = "nvim not installed (make system-deps installs Debian's neovim)"
        if editor_required:
            pytest.fail(message)
        pytest.skip(message)
    main_tex = copy_paper(bench_papers, tmp_path)
    text, cursor = masked_text(main_tex)
    main_tex.write_text(text, encoding="utf-8")
    line = text.count("\n", 0, cursor) + 1
    col = len(text[text.rfind("\n", 0, cursor) + 1 : cursor].encode("utf-8"))
    out = tmp_path / "labels.txt"
    env = server_env()
    env.update(STARTREF_TEX=str(main_tex), STARTREF_LINE=str(line), STARTREF_COL=str(col),
               STARTREF_CMD=" ".join(server_command()), STARTREF_NVIM_OUT=str(out), HOME=str(tmp_path))
    run = subprocess.run([nvim, "--headless", "--clean", "-n", "-c", f"luafile {SCRIPT}"], env=env,
                         capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert run.returncode == 0, f"nvim exit {run.returncode}\nstdout: {run.stdout[-2000:]}\nstderr: {run.stderr[-2000:]}"
    labels = out.read_text().split()
    assert GOLD & set(labels), labels
    saved = main_tex.read_text(encoding="utf-8")
    expected = text[:cursor] + labels[0] + text[cursor:]
    assert saved == expected, "the file Neovim saved is not the masked text with the top key inserted"
    assert f"\\citep{{{labels[0]}}}" in saved
