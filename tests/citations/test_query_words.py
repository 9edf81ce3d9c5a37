"""``DocumentWords`` (issue #11): the linear rewrite answers exactly what the old per-line scan answered."""

from __future__ import annotations

import bisect
import random
import re

from startref.citations.query import DocumentWords
from startref.latex.cites import find_cites
from startref.latex.commands import DEFAULT_CITE_SYNTAX
from startref.latex.quicktext import quick_text

_PERCENT = re.compile(r"(?<!\\)%")


def _old_between(text: str, cites, lo: int, hi: int) -> str:
    """The former implementation: scans from the line's start for every slice (quadratic on one long line)."""
    lo, hi = max(0, lo), max(lo, hi)
    line_start = text.rfind("\n", 0, lo) + 1
    if _PERCENT.search(text, line_start, lo):
        eol = text.find("\n", lo, hi)
        lo = hi if eol < 0 else eol
    parts, pos = [], lo
    i = max(0, bisect.bisect_right([c.start for c in cites], lo) - 1)
    while i < len(cites) and cites[i].start < hi:
        cite = cites[i]
        if cite.end > pos:
            if cite.start > pos:
                parts.append(text[pos:cite.start])
            pos = max(pos, cite.end)
        i += 1
    if pos < hi:
        parts.append(text[pos:hi])
    return quick_text(" ".join(parts))


def test_same_words_as_the_line_scan_on_random_documents() -> None:
    rng = random.Random(11)
    pieces = ["word ", "more words ", "\\cite{a} ", "\\citep{b,c} ", "% a comment ", "50\\% off ", "\n", "\n\n",
              "\\section{Intro} ", "x~\\cite{d}. "]
    for _ in range(60):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(5, 120)))
        cites = find_cites(text, DEFAULT_CITE_SYNTAX)
        words = DocumentWords(text, cites)
        for _ in range(40):
            lo = rng.randrange(-20, len(text) + 5)
            hi = lo + rng.randrange(0, 400)
            assert words.between(lo, hi) == _old_between(text, cites, lo, hi), (text, lo, hi)


def test_windows_are_shared_across_cursors() -> None:
    text = "Intro text~\\cite{a}. " * 50 + "Here~\\cite{?}"
    cites = find_cites(text, DEFAULT_CITE_SYNTAX)
    words = DocumentWords(text, cites)
    first = [words.window(c, len(text)) for c in cites[:-1]]
    assert [words.window(c, len(text)) for c in cites[:-1]] == first
    assert all(w is v for w, v in zip(first, [words.window(c, len(text)) for c in cites[:-1]]))
