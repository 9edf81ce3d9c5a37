"""From LaTeX text and a cursor to a ranking ``Query``.

Why one builder for every path: the CLI, the server, ``annotate``, ``eval`` and ``train`` must see a cursor the same
way, or the weights learned in training would not fit what the user gets. The leave-one-out protocol falls out of
it: the text before the cursor keeps its cite commands (they become the history), and every cite command in the text
after the cursor vanishes in the plain-text conversion, so nothing of the answer leaks.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from startref.citations.bibindex import BibIndex
from startref.citations.features import PriorCite, Query
from startref.latex.cites import CiteCommand
from startref.latex.quicktext import quick_text
from startref.latex.sections import outline_at

__all__ = ["build_query", "BEFORE_RAW_CHARS", "AFTER_RAW_CHARS"]

BEFORE_RAW_CHARS = 2500
AFTER_RAW_CHARS = 800
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")
_HIST_BEFORE = 300
_HIST_AFTER = 120


class _Words:
    """Plain words of slices of ``text`` with every cite command cut out (found by the real cite parser, so user
    wrappers such as ``\\mycite{key}`` vanish too and no key ever leaks into a feature)."""

    def __init__(self, text: str, cites: Sequence[CiteCommand]) -> None:
        self.text = text
        self.cites = cites
        self.starts = [c.start for c in cites]

    def between(self, lo: int, hi: int) -> str:
        lo, hi = max(0, lo), max(lo, hi)
        # A slice that starts inside a comment would show quick_text no "%" to strip: skip to the line's end.
        line_start = self.text.rfind("\n", 0, lo) + 1
        if _UNESCAPED_PERCENT.search(self.text, line_start, lo):
            eol = self.text.find("\n", lo, hi)
            lo = hi if eol < 0 else eol
        parts: list[str] = []
        pos = lo
        i = max(0, bisect.bisect_right(self.starts, lo) - 1)
        while i < len(self.cites) and self.cites[i].start < hi:
            cite = self.cites[i]
            if cite.end > pos:
                if cite.start > pos:
                    parts.append(self.text[pos : cite.start])
                pos = max(pos, cite.end)
            i += 1
        if pos < hi:
            parts.append(self.text[pos:hi])
        return quick_text(" ".join(parts))


def build_query(
    text: str,
    cursor: int,
    index: BibIndex,
    cites: Sequence[CiteCommand],
    *,
    skip: CiteCommand | None = None,
    exclude_keys: Sequence[str] = (),
    after_start: int | None = None,
) -> Query:
    """The ranking query at ``cursor``; ``cites`` are all cite commands of ``text`` (computed once by the caller).

    ``skip`` is a cite command to ignore (the placeholder being filled, or the cite the cursor is inside);
    ``exclude_keys`` are entries not to propose (keys already inside that cite); ``after_start`` is where the text
    after the cursor begins when something is cut out there (the masked cite in ``eval``), so no copy of a whole
    book is made per case.
    """
    start_after = cursor if after_start is None else after_start
    words = _Words(text, cites)
    before = words.between(cursor - BEFORE_RAW_CHARS, cursor)
    after = words.between(start_after, start_after + AFTER_RAW_CHARS)
    history: list[PriorCite] = []
    for cite in cites:
        if cite.start >= cursor:
            break
        if cite is skip or (skip is not None and cite.start == skip.start):
            continue
        keys: list[str] = []
        for key in cite.keys:
            entry = index.get(key)
            if entry is not None and entry.key not in keys:
                keys.append(entry.key)
        if keys:
            # The words around an earlier cite: a few hundred characters before it, a little after, never past
            # the cursor (what follows the cursor belongs to the current query, not to the history).
            window = f"{words.between(cite.start - _HIST_BEFORE, cite.start)} {words.between(cite.end, min(cite.end + _HIST_AFTER, cursor))}"
            history.append(PriorCite(tuple(keys), cite.start, window.strip()))
    excluded = frozenset(e.key for k in exclude_keys if (e := index.get(k)) is not None)
    return Query(
        before=before,
        after=after,
        history=tuple(history),
        cursor=cursor,
        exclude=excluded,
        outline=outline_at(text, cursor),
    )
