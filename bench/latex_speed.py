"""Speed of the LaTeX layer on book-length input (targets: each step well under a second on 1.5 MB).

    python bench/latex_speed.py
"""

from __future__ import annotations

import time
from pathlib import Path

from startref.latex.cites import find_cites
from startref.latex.commands import syntax_with_user_wrappers
from startref.latex.context import cursor_context
from startref.latex.plaintext import to_plain_text

SHARED = Path(__file__).resolve().parents[2] / "shared"


def main() -> None:
    chapter = (SHARED / "bench" / "papers" / "153957__phd_thesis" / "chapters" / "2_station.tex").read_text()
    doc = "\\newcommand{\\mycite}[1]{\\citep{#1}}\n" + chapter * (1_500_000 // len(chapter) + 1)
    rows = []
    for label, fn in [
        ("user wrappers (1.5 MB)", lambda: syntax_with_user_wrappers(doc)),
        ("find_cites (1.5 MB)", lambda: find_cites(doc, syntax_with_user_wrappers(doc))),
        ("cursor_context at the end (1.5 MB)", lambda: cursor_context(doc, len(doc))),
        ("to_plain_text (3 KB window)", lambda: to_plain_text(doc[-3000:])),
    ]:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        rows.append((label, min(times)))
    print("| step | best of 3 (ms) |\n|---|---|")
    for label, ms in rows:
        print(f"| {label} | {ms:.0f} |")


if __name__ == "__main__":
    main()
