"""Capture Neovim's completion menu with ``startref lsp`` in a real terminal (tmux), as text and as a PNG.

Why a script: the README's screenshot must be the real thing, and reproducible. It opens a dev paper
(ContextLab/llm-stylometry from shared/bench) with one citation emptied, in Neovim 0.7 configured only by
``editor-extension/neovim/startref.lua``; puts the cursor in ``\\citep{|}``, presses ``<C-x><C-o>`` and saves
``tmux capture-pane`` as text (``completion-menu.txt``) and, rendered by headless Chromium, as ``completion-menu.png``.

    python editor-extension/neovim/screenshot/capture.py [--out DIR]
Needs: nvim, tmux, chromium (Debian packages), the project installed (``startref`` on PATH or --python).
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SHARED = Path(os.environ.get("STARTREF_SHARED", REPO.parent / "shared")).resolve()
PAPER = SHARED / "bench" / "papers" / "ContextLab__llm-stylometry" / "paper"
MASKED = r"\citep{HuanEtal25,UcheEtal20}"
SESSION = f"startref-shot-{os.getpid()}"


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def _palette(n: int) -> str:
    base = ["#000000", "#cd0000", "#00cd00", "#cdcd00", "#0000ee", "#cd00cd", "#00cdcd", "#e5e5e5",
            "#7f7f7f", "#ff0000", "#00ff00", "#ffff00", "#5c5cff", "#ff00ff", "#00ffff", "#ffffff"]
    if n < 16:
        return base[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    g = 8 + (n - 232) * 10
    return "#%02x%02x%02x" % (g, g, g)


def ansi_to_html(ansi: str, fg0: str = "#d0d0d0", bg0: str = "#1c1c1c") -> str:
    """The SGR colours of ``tmux capture-pane -e`` as spans (enough for Neovim's palette)."""
    out: list[str] = []
    fg, bg, bold, rev = fg0, bg0, False, False
    for part in re.split(r"(\x1b\[[0-9;]*m)", ansi):
        m = re.fullmatch(r"\x1b\[([0-9;]*)m", part)
        if not m:
            if part:
                f, b = (bg, fg) if rev else (fg, bg)
                weight = "font-weight:bold;" if bold else ""
                out.append(f'<span style="color:{f};background:{b};{weight}">{html.escape(part)}</span>')
            continue
        codes = [int(c) if c else 0 for c in m.group(1).split(";")] or [0]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                fg, bg, bold, rev = fg0, bg0, False, False
            elif c == 1:
                bold = True
            elif c == 7:
                rev = True
            elif c == 22:
                bold = False
            elif c == 27:
                rev = False
            elif 30 <= c <= 37:
                fg = _palette(c - 30)
            elif 90 <= c <= 97:
                fg = _palette(c - 90 + 8)
            elif 40 <= c <= 47:
                bg = _palette(c - 40)
            elif 100 <= c <= 107:
                bg = _palette(c - 100 + 8)
            elif c == 39:
                fg = fg0
            elif c == 49:
                bg = bg0
            elif c in (38, 48) and i + 2 < len(codes) and codes[i + 1] == 5:
                colour = _palette(codes[i + 2])
                fg, bg = (colour, bg) if c == 38 else (fg, colour)
                i += 2
            elif c in (38, 48) and i + 4 < len(codes) and codes[i + 1] == 2:
                colour = "#%02x%02x%02x" % tuple(codes[i + 2 : i + 5])
                fg, bg = (colour, bg) if c == 38 else (fg, colour)
                i += 4
            i += 1
    body = "".join(out)
    return (f"<html><body style='margin:0;background:{bg0}'><pre style=\"margin:8px;font:15px 'DejaVu Sans Mono',"
            f"monospace;line-height:1.25\">{body}</pre></body></html>")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--python", default=sys.executable, help="interpreter that has startref installed")
    parser.add_argument("--wait", type=float, default=90.0, help="seconds to wait for the menu")
    args = parser.parse_args()
    for tool in ("nvim", "tmux"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found (apt-get install neovim tmux)")
    with tempfile.TemporaryDirectory(prefix="startref-shot-") as tmp:
        folder = Path(tmp) / "paper"
        shutil.copytree(PAPER, folder)
        for path in [folder, *folder.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)  # shared/ is read-only
        tex = folder / "main.tex"
        text = tex.read_text(encoding="utf-8")
        at = text.index(MASKED)
        text = text[:at] + r"\citep{}" + text[at + len(MASKED):]
        tex.write_text(text, encoding="utf-8")
        cursor = at + len(r"\citep{")
        line = text.count("\n", 0, cursor) + 1
        col = len(text[text.rfind("\n", 0, cursor) + 1 : cursor].encode()) + 1
        init = Path(tmp) / "init.lua"
        init.write_text(
            f"vim.g.startref_cmd = {{ '{args.python}', '-m', 'startref', 'lsp' }}\n"
            f"dofile('{REPO / 'editor-extension' / 'neovim' / 'startref.lua'}')\n"
            "vim.opt.completeopt = { 'menuone', 'noinsert' }\nvim.opt.pumheight = 12\nvim.opt.termguicolors = true\n"
            "vim.opt.number = true\nvim.opt.wrap = false\nvim.opt.shortmess:append('c')\n",
            encoding="utf-8")
        env = f"HOME={tmp} TERM=xterm-256color"
        _tmux("new-session", "-d", "-s", SESSION, "-x", "132", "-y", "30",
              f"env {env} nvim -n -u {init} +{line} {tex}")
        try:
            deadline = time.time() + args.wait
            # wait for the server: ':lua' prints "startref-ready" once the client has initialized
            probe = (":lua print(#vim.tbl_filter(function(c) return c.initialized end, vim.lsp.buf_get_clients()) > 0 "
                     "and 'startref-ready' or 'startref-waiting')")
            while time.time() < deadline:
                time.sleep(1)
                _tmux("send-keys", "-t", SESSION, probe, "Enter")
                time.sleep(0.5)
                if "startref-ready" in _tmux("capture-pane", "-p", "-t", SESSION):
                    break
            _tmux("send-keys", "-t", SESSION, f":call cursor({line}, {col})", "Enter")
            _tmux("send-keys", "-t", SESSION, "i")
            time.sleep(0.5)
            _tmux("send-keys", "-t", SESSION, "C-x")
            time.sleep(0.3)
            _tmux("send-keys", "-t", SESSION, "C-o")
            deadline = time.time() + args.wait
            while time.time() < deadline:
                time.sleep(1)
                if " — " in _tmux("capture-pane", "-p", "-t", SESSION):  # entries read "Title — Authors (Year)"
                    time.sleep(1)
                    break
            plain = _tmux("capture-pane", "-p", "-t", SESSION)
            ansi = _tmux("capture-pane", "-p", "-e", "-t", SESSION)
        finally:
            subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "completion-menu.txt").write_text(plain, encoding="utf-8")
    page = args.out / "completion-menu.html"
    page.write_text(ansi_to_html(ansi), encoding="utf-8")
    chromium = shutil.which("chromium")
    if chromium:
        png = args.out / "completion-menu.png"
        with tempfile.TemporaryDirectory(prefix="startref-chromium-") as profile:
            subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                            "--disable-background-networking", "--disable-component-update", "--disable-sync",
                            f"--user-data-dir={profile}", "--hide-scrollbars", f"--screenshot={png}",
                            "--window-size=1240,660", page.as_uri()], check=True, capture_output=True, timeout=120)
        print(f"wrote {png}")
    page.unlink()
    print(f"wrote {args.out / 'completion-menu.txt'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
