"""Real Neovim from Debian (0.7.2), headless, completing a masked citation of a real paper through ``startref lsp``.

The Lua script (editor-extension/neovim/test/complete_top_item.lua) uses only what Neovim ships: the built-in
client, ``buf_request_sync`` for completion, ``apply_text_edits`` for the top item, ``:write``. The test reads
the saved file back. Without ``nvim`` the test skips locally and FAILS under CI (``make test`` installs it).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from lspcase import GOLD, editor_case, require_editor

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "editor-extension" / "neovim" / "test" / "complete_top_item.lua"
FIX_SCRIPT = REPO / "editor-extension" / "neovim" / "test" / "fix_miscitation.lua"


def test_neovim_completes_and_saves_the_top_item(bench_papers: Path, tmp_path: Path) -> None:
    nvim = shutil.which("nvim")
    require_editor(nvim is not None, "nvim not installed (make system-deps installs Debian's neovim)")
    case = editor_case(bench_papers, tmp_path, byte_column=True)
    out = tmp_path / "labels.txt"
    env = {**case.env, "STARTREF_NVIM_OUT": str(out)}
    run = subprocess.run([nvim, "--headless", "--clean", "-n", "-c", f"luafile {SCRIPT}"], env=env,
                         capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert run.returncode == 0, f"nvim exit {run.returncode}\nstdout: {run.stdout[-2000:]}\nstderr: {run.stderr[-2000:]}"
    labels = out.read_text().split()
    assert GOLD & set(labels), labels
    saved = case.tex.read_text(encoding="utf-8")
    text, cursor = case.text, case.cursor
    expected = text[:cursor] + labels[0] + text[cursor:]
    assert saved == expected, "the file Neovim saved is not the masked text with the top key inserted"
    assert f"\\citep{{{labels[0]}}}" in saved


def test_neovim_shows_the_injected_wrong_key_and_applies_the_quick_fix(bench_papers: Path, tmp_path: Path) -> None:
    """A real dev paper with one wrong key (``\\citep{PedrEtal11}`` -> ``\\citep{HughEtal12}``): Neovim's own
    diagnostics hold the possible mis-citation on its line as a warning, and its preferred quick fix, applied and
    saved, leaves exactly that key replaced."""
    nvim = shutil.which("nvim")
    require_editor(nvim is not None, "nvim not installed (make system-deps installs Debian's neovim)")
    case = editor_case(bench_papers, tmp_path, byte_column=True)
    original = (bench_papers / "ContextLab__llm-stylometry" / "paper" / "main.tex").read_text(encoding="utf-8")
    at = original.index(r"\citep{PedrEtal11}") + len(r"\citep{")
    swapped = original[:at] + "HughEtal12" + original[at + len("PedrEtal11"):]
    case.tex.write_text(swapped, encoding="utf-8")
    line = swapped.count("\n", 0, at) + 1
    out = tmp_path / "fix.txt"
    env = {**case.env, "STARTREF_LINE": str(line), "STARTREF_NVIM_OUT": str(out)}
    run = subprocess.run([nvim, "--headless", "--clean", "-n", "-c", f"luafile {FIX_SCRIPT}"], env=env,
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, f"nvim exit {run.returncode}\nstdout: {run.stdout[-2000:]}\nstderr: {run.stderr[-2000:]}"
    lnum, col, severity, code, source, title = out.read_text().splitlines()
    col_expected = at - (swapped.rfind("\n", 0, at) + 1)
    assert (int(lnum), int(col), code, source) == (line - 1, col_expected, "possible_miscitation", "startref")
    assert severity == "2"  # vim.diagnostic.severity.WARN
    new_key = title.removeprefix("Replace with `").removesuffix("`")
    assert title.startswith("Replace with `") and new_key != "HughEtal12"
    assert case.tex.read_text(encoding="utf-8") == swapped[:at] + new_key + swapped[at + len("HughEtal12"):]


def test_a_missing_editor_fails_under_ci_and_skips_only_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="not installed"):
        require_editor(False, "nvim not installed")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require_editor(False, "nvim not installed")
    require_editor(True, "unused")
