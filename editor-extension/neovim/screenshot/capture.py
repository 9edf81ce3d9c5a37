"""Capture Neovim's completion menu with ``startref lsp`` in a real terminal (tmux), as text and as a PNG.

It opens a dev paper (ContextLab/llm-stylometry from shared/bench) with one citation emptied, in Neovim configured
only by ``editor-extension/neovim/startref.lua``, puts the cursor in ``\\citep{|}``, presses ``<C-x><C-o>`` and
saves the screen as ``completion-menu.txt`` and ``completion-menu.png`` (scripts/terminal_shot.py).

    python editor-extension/neovim/screenshot/capture.py
Needs nvim, tmux and chromium (Debian packages) and the project installed.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--python", default=sys.executable, help="interpreter that has startref installed")
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the server, then the menu")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="startref-shot-") as tmp:
        tex, text, cursor = masked_paper(Path(tmp))
        line = text.count("\n", 0, cursor) + 1
        col = len(text[text.rfind("\n", 0, cursor) + 1 : cursor].encode()) + 1
        init = Path(tmp) / "init.lua"
        init.write_text(
            f"vim.g.startref_cmd = {{ '{args.python}', '-m', 'startref', 'lsp' }}\n"
            f"dofile('{REPO / 'editor-extension' / 'neovim' / 'startref.lua'}')\n"
            "vim.opt.completeopt = { 'menuone', 'noinsert' }\nvim.opt.pumheight = 12\nvim.opt.termguicolors = true\n"
            "vim.opt.number = true\nvim.opt.wrap = false\nvim.opt.shortmess:append('c')\n",
            encoding="utf-8")
        tmux = Tmux(f"env HOME={tmp} TERM=xterm-256color nvim -n -u {init} +{line} {tex}")
        try:
            tmux.wait_for("main.tex", 30)
            probe = ("Escape", ":lua local c = vim.lsp.get_active_clients()[1]; "
                     "print(c and c.initialized and 'startref-' .. 'ready' or 'waiting')", "Enter")
            if not tmux.wait_for("startref-ready", args.wait, probe):
                raise SystemExit("the language server did not start:\n" + tmux.screen())
            tmux.keys(f":call cursor({line}, {col})", "Enter")
            tmux.keys("i")
            tmux.keys("C-x")
            tmux.keys("C-o")
            if not tmux.wait_for(" — ", args.wait):  # menu entries read "Title — Authors (Year)"
                raise SystemExit("no completion menu appeared")
            plain, ansi = tmux.screen(), tmux.screen(colours=True)
        finally:
            tmux.close()
    for path in save_capture(args.out, "completion-menu", plain, ansi, size="1240,580"):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
