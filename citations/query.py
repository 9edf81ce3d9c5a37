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

__all__ = ["build_query", "DocumentWords", "BEFORE_RAW_CHARS", "AFTER_RAW_CHARS"]

BEFORE_RAW_CHARS = 2500
AFTER_RAW_CHARS = 800
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")
_NEWLINE = re.compile("\n")
_HIST_BEFORE = 300
_HIST_AFTER = 120


class DocumentWords:
    """Plain words of slices of ``text`` with every cite command cut out (found by the real cite parser, so user
    wrappers such as ``\\mycite{key}`` vanish too and no key ever leaks into a feature).

    Why the two position lists: ``between`` must know whether a slice starts inside a ``%`` comment, i.e. whether
    an unescaped ``%`` stands between the start of its line and the slice. Scanning the line each time was
    quadratic on a document written as one long line (a 5 MB line: 96 s); the newlines and unescaped ``%`` are
    found once, lazily, and each question is two binary searches. One object can serve every cursor of a document
    (``annotate`` fills many placeholders): it also remembers the words around each earlier citation.
    """

    def __init__(self, text: str, cites: Sequence[CiteCommand]) -> None:
        self.text = text
        self.cites = cites
        self.starts = [c.start for c in cites]
        self._percents: list[int] | None = None
        self._newlines: list[int] | None = None
        self._windows: dict[tuple[int, int], str] = {}

    def window(self, cite: CiteCommand, cursor: int) -> str:
        """The words around an earlier cite: a few hundred characters before it, a little after, never past the
        cursor (what follows the cursor belongs to the current query, not to the history)."""
        hi = min(cite.end + _HIST_AFTER, cursor)
        key = (cite.start, hi)
        found = self._windows.get(key)
        if found is None:
            found = f"{self.between(cite.start - _HIST_BEFORE, cite.start)} {self.between(cite.end, hi)}".strip()
            self._windows[key] = found
        return found

    def _in_comment(self, lo: int) -> bool:
        """Whether an unescaped ``%`` stands on ``lo``'s line before ``lo``."""
        if self._percents is None:
            self._percents = [m.start() for m in _UNESCAPED_PERCENT.finditer(self.text)]
            self._newlines = [m.start() for m in _NEWLINE.finditer(self.text)] if self._percents else []
        if not self._percents:
            return False
        assert self._newlines is not None
        i = bisect.bisect_left(self._newlines, lo)  # newlines before lo
        line_start = self._newlines[i - 1] + 1 if i else 0
        j = bisect.bisect_left(self._percents, line_start)
        return j < len(self._percents) and self._percents[j] < lo

    def between(self, lo: int, hi: int) -> str:
        lo, hi = max(0, lo), max(lo, hi)
        # A slice that starts inside a comment would show quick_text no "%" to strip: skip to the line's end.
        if self._in_comment(lo):
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
    words: DocumentWords | None = None,
) -> Query:
    """The ranking query at ``cursor``; ``cites`` are all cite commands of ``text`` (computed once by the caller).

    ``skip`` is a cite command to ignore (the placeholder being filled, or the cite the cursor is inside);
    ``exclude_keys`` are entries not to propose (keys already inside that cite); ``after_start`` is where the text
    after the cursor begins when something is cut out there (the masked cite in ``eval``), so no copy of a whole
    book is made per case. ``words`` is a ``DocumentWords`` of the same ``text`` and ``cites`` shared by many
    cursors of one document (each call then costs what is new, not a pass over the whole document).
    """
    start_after = cursor if after_start is None else after_start
    if words is None or words.text is not text or words.cites is not cites:
        words = DocumentWords(text, cites)
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
            history.append(PriorCite(tuple(keys), cite.start, words.window(cite, cursor)))
    excluded = frozenset(e.key for k in exclude_keys if (e := index.get(k)) is not None)
    return Query(
        before=before,
        after=after,
        history=tuple(history),
        cursor=cursor,
        exclude=excluded,
        outline=outline_at(text, cursor),
    )
