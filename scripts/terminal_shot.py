"""Screenshots of terminal editors driven through tmux: the shared half of each editor's ``screenshot/capture.py``.

Why: an editor's README shows the real thing. Neovim and Emacs run in a tmux pane like a user's terminal;
``capture-pane`` gives the screen as text (kept beside the PNG, so the capture can be read and diffed) and with its
colours as ANSI escapes, which headless Chromium renders to a PNG.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["Tmux", "masked_paper", "ansi_to_html", "save_capture"]

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STARTREF_SHARED", REPO.parent / "shared")).resolve()
PAPER = SHARED / "bench" / "papers" / "ContextLab__llm-stylometry" / "paper"
MASKED = r"\citep{HuanEtal25,UcheEtal20}"


class Tmux:
    """One detached tmux session running ``command`` in a ``width`` x ``height`` pane."""

    def __init__(self, command: str, width: int = 132, height: int = 30) -> None:
        if shutil.which("tmux") is None:
            raise SystemExit("tmux not found (apt-get install tmux)")
        self.name = f"startref-shot-{os.getpid()}"
        self._run("new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), command)

    def _run(self, *args: str) -> str:
        return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout

    def keys(self, *keys: str, pause: float = 0.3) -> None:
        self._run("send-keys", "-t", self.name, *keys)
        time.sleep(pause)

    def screen(self, colours: bool = False) -> str:
        return self._run("capture-pane", "-p", *(["-e"] if colours else []), "-t", self.name)

    def wait_for(self, needle: str, timeout: float, probe: tuple[str, ...] = ()) -> bool:
        """Until ``needle`` is on screen (sending ``probe`` keys before each look), at most ``timeout`` s."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if probe:
                self.keys(*probe, pause=0.5)
            if needle in self.screen():
                return True
            time.sleep(1)
        return False

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def masked_paper(folder: Path) -> tuple[Path, str, int]:
    """A writable copy of the dev paper with ``MASKED`` emptied to ``\\citep{}``: (tex, text, cursor offset)."""
    dest = folder / "paper"
    shutil.copytree(PAPER, dest)
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # shared/ is read-only
    tex = dest / "main.tex"
    text = tex.read_text(encoding="utf-8")
    at = text.index(MASKED)
    text = text[:at] + r"\citep{}" + text[at + len(MASKED):]
    tex.write_text(text, encoding="utf-8")
    return tex, text, at + len(r"\citep{")


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
    """The SGR colours of ``tmux capture-pane -e`` as coloured spans (16, 256 and true colours, bold, reverse)."""
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
            elif 30 <= c <= 37 or 90 <= c <= 97:
                fg = _palette(c - 30 if c < 90 else c - 90 + 8)
            elif 40 <= c <= 47 or 100 <= c <= 107:
                bg = _palette(c - 40 if c < 100 else c - 100 + 8)
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
    return (f"<html><body style='margin:0;background:{bg0}'><pre style=\"margin:8px;font:15px 'DejaVu Sans Mono',"
            f"monospace;line-height:1.25\">{''.join(out)}</pre></body></html>")


def save_capture(out: Path, name: str, plain: str, ansi: str, size: str = "1240,600", light: bool = False) -> list[Path]:
    """Write ``name.txt`` (the screen as text) and, when Chromium is there, ``name.png`` (with its colours)."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / f"{name}.txt"]
    written[0].write_text(plain, encoding="utf-8")
    chromium = shutil.which("chromium")
    if chromium:
        with tempfile.TemporaryDirectory(prefix="startref-chromium-") as tmp:
            page = Path(tmp) / "screen.html"
            colours = ("#1c1c1c", "#ffffff") if light else ("#d0d0d0", "#1c1c1c")  # the terminal's default fg/bg
            page.write_text(ansi_to_html(ansi, *colours), encoding="utf-8")
            png = out / f"{name}.png"
            subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                            "--disable-background-networking", "--disable-component-update", "--disable-sync",
                            f"--user-data-dir={tmp}/profile", "--hide-scrollbars", f"--screenshot={png}",
                            f"--window-size={size}", page.as_uri()], check=True, capture_output=True, timeout=120)
            written.append(png)
    return written
