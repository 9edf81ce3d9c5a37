"""Real Emacs from Debian (emacs-nox 28 + elpa-eglot 1.9), batch mode, completing a masked citation through eglot.

The Emacs Lisp script (editor-extension/emacs/test/complete-top-item.el) starts eglot the way a user's
``(add-hook 'latex-mode-hook #'eglot-ensure)`` does, takes the first candidate of eglot's completion-at-point in
eglot's own order (the server's sortText), lets eglot's exit function apply the item's edit, and saves. The test
reads the file back. Without Emacs or eglot the test skips locally and FAILS under CI (``make test`` installs them).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


from lspcase import GOLD, editor_case, require_editor

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "editor-extension" / "emacs" / "test" / "complete-top-item.el"
EGLOT = Path("/usr/share/emacs/site-lisp/elpa")


def test_emacs_eglot_completes_and_saves_the_top_item(bench_papers: Path, tmp_path: Path) -> None:
    emacs = shutil.which("emacs")
    require_editor(emacs is not None and any(EGLOT.glob("eglot-*")),
                   "emacs or eglot not installed (make system-deps installs Debian's emacs-nox and elpa-eglot)")
    case = editor_case(bench_papers, tmp_path, byte_column=False)
    out = tmp_path / "labels.txt"
    env = {**case.env, "STARTREF_EMACS_OUT": str(out)}
    run = subprocess.run([emacs, "--batch", "-l", str(SCRIPT)], env=env, capture_output=True, text=True,
                         timeout=300, cwd=tmp_path)
    assert run.returncode == 0, f"emacs exit {run.returncode}\nstdout: {run.stdout[-2000:]}\nstderr: {run.stderr[-3000:]}"
    labels = out.read_text().split()
    assert GOLD & set(labels), labels
    saved = case.tex.read_text(encoding="utf-8")
    text, cursor = case.text, case.cursor
    assert saved == text[:cursor] + labels[0] + text[cursor:], "the file Emacs saved is not the text with the top key"
    assert f"\\citep{{{labels[0]}}}" in saved
