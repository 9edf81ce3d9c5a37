"""Capture Emacs' completion list (eglot + ``startref lsp``) in a real terminal (tmux), as text and as a PNG.

Emacs 28 (emacs-nox) with Debian's eglot 1.9, configured as the README says, opens a dev paper with one citation
emptied to ``\\citep{}``; the cursor goes inside the braces and ``M-x completion-at-point`` lists the entries
in the server's order. Saved as ``completion.txt`` and ``completion.png`` (scripts/terminal_shot.py).

    python editor-extension/emacs/screenshot/capture.py
Needs emacs, elpa-eglot, tmux and chromium (Debian packages) and the project installed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(REPO / "scripts"))

from terminal_shot import Tmux, masked_paper, save_capture  # noqa: E402

INIT = """
(require 'package)
(add-to-list 'package-directory-list "/usr/share/emacs/site-lisp/elpa")
(package-initialize)
(require 'eglot)
(setq inhibit-startup-screen t eglot-sync-connect 120 jsonrpc-default-request-timeout 180
      completions-format 'one-column make-backup-files nil)
(add-to-list 'eglot-server-programs '((latex-mode tex-mode plain-tex-mode bibtex-mode) . ("{python}" "-m" "startref" "lsp")))
(add-hook 'latex-mode-hook #'eglot-ensure)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--python", default=sys.executable, help="interpreter that has startref installed")
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the server, then the list")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="startref-shot-") as tmp:
        tex, text, cursor = masked_paper(Path(tmp))
        line = text.count("\n", 0, cursor) + 1
        col = cursor - (text.rfind("\n", 0, cursor) + 1)
        init = Path(tmp) / "init.el"
        init.write_text(INIT.replace("{python}", args.python), encoding="utf-8")
        tmux = Tmux(f"env HOME={tmp} TERM=xterm-256color emacs -nw -Q -l {init} {tex}")
        try:
            tmux.wait_for("main.tex", 60)
            if not tmux.wait_for("[eglot:", args.wait):  # the mode line shows the connected server
                raise SystemExit("eglot did not connect:\n" + tmux.screen())
            tmux.keys("M-:", f"(progn (goto-char (point-min)) (forward-line {line - 1}) (forward-char {col}) (recenter 3))",
                      "Enter")
            tmux.keys("M-x")  # C-M-i is ispell-complete-word in latex-mode; the command itself is unambiguous
            tmux.keys("completion-at-point", "Enter")
            if not tmux.wait_for(" — ", args.wait):  # candidates are annotated "Title — Authors (Year)"
                raise SystemExit("no completion list appeared:\n" + tmux.screen())
            plain, ansi = tmux.screen(), tmux.screen(colours=True)
        finally:
            tmux.close()
    for path in save_capture(args.out, "completion", plain, ansi, size="1240,600", light=True):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
