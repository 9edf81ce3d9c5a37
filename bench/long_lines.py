"""Documents written as one long line (issue #11): suggest and annotate must stay linear.

A real paper (minimap2, 45 citations) with its comments removed and its newlines turned into spaces, repeated to
1 MB and 5 MB of a single line (the 5 MB one has ~6,000 citations). Timed in-process with the shipped models,
retrieval only, the encoder warmed first: building the query at the last citation, a whole ``Engine.suggest``
there, and ``Engine.annotate`` of 50 placeholders spread over the document with a 4 s budget (the server's).
Before the fix a 5 MB line took 96 s in ``suggest`` (``_Words.between`` scanned from the line's start for every
earlier cite).

    nice -n 10 python bench/long_lines.py
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from startref.citations.engine import Engine, EngineConfig
from startref.citations.query import build_query
from startref.latex.cites import find_cites
from startref.latex.commands import syntax_with_user_wrappers

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import SHARED  # noqa: E402

PAPER = SHARED / "bench" / "papers" / "lh3__minimap2" / "tex"
CITE = re.compile(r"\\cite[pt]?\{[^}]*\}")


def one_line(size: int) -> str:
    tex = (PAPER / "minimap2.tex").read_text(encoding="utf-8")
    line = re.sub(r"(?<!\\)%.*", "", tex).replace("\n", " ")
    return (line * (size // len(line) + 1))[:size]


def with_placeholders(text: str, n: int) -> str:
    spots = [m for m in CITE.finditer(text)]
    chosen = {m.start() for m in spots[:: max(1, len(spots) // n)][:n]}
    out, pos = [], 0
    for m in spots:
        if m.start() in chosen:
            out += [text[pos:m.start()], "\\cite{?}"]
            pos = m.end()
    return "".join(out + [text[pos:]])


def main() -> None:
    engine = Engine(EngineConfig(use_generator=False))
    engine.warm()
    bib = [PAPER / "minimap2.bib"]
    engine.suggest("Warm-up sentence about read mapping~\\cite{}", 40, bib=bib)
    rows = []
    for mb in (1, 5):
        text = one_line(mb * 1_000_000)
        cursor = text.rfind("\\cite{") + len("\\cite{")
        cites = find_cites(text, syntax_with_user_wrappers(text))
        index = engine.bibliography_for(bib=bib)
        t0 = time.perf_counter()
        build_query(text, cursor, index, cites)
        t_query = time.perf_counter() - t0
        t0 = time.perf_counter()
        engine.suggest(text, cursor, bib=bib)
        t_suggest = time.perf_counter() - t0
        holders = with_placeholders(text, 50)
        t0 = time.perf_counter()
        result = engine.annotate(holders, bib=bib, max_placeholders=50, deadline=time.monotonic() + 4.0)
        t_annotate = time.perf_counter() - t0
        rows.append((f"{mb} MB, one line, {len(cites)} cites", t_query, t_suggest, t_annotate, len(result.edits)))
    print("| document | build_query (s) | suggest (s) | annotate 50 placeholders, 4 s budget (s) | filled |")
    print("|---|---|---|---|---|")
    for label, q, s, a, filled in rows:
        print(f"| {label} | {q:.2f} | {s:.2f} | {a:.2f} | {filled} |")


if __name__ == "__main__":
    main()
