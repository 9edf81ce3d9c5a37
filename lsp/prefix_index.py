"""Finding a big .bib's entries by the letters typed, without testing each of them.

Why: a .bib of thousands of entries is ranked through a candidate stage (``citations/big_bib.py``), so the ranking
lists a few hundred rows; the menu must still offer any entry whose key, title word or author name starts with
what is typed (``completion._matches``). Testing all 36,725 entries of a personal .bib that way cost up to 0.6 s
of a keystroke (``bench/lsp.py --library-only``: server CPU p95 790 ms). A sorted list of every entry's words,
built once per bibliography, answers with two binary searches.
"""

from __future__ import annotations

import bisect

from startref.citations.bibindex import BibIndex
from startref.citations.derived_cache import DerivedCache

from .entries import filter_text

__all__ = ["PrefixIndex", "prefix_index"]

_INDEXES: DerivedCache[BibIndex, "PrefixIndex"] = DerivedCache(keep=2)


class PrefixIndex:
    """Every word of every entry (its key whole, and the words of key, title and authors as ``filter_text`` gives
    them, lower case, hyphens as spaces) with the entry's position, sorted by word."""

    def __init__(self, index: BibIndex) -> None:
        pairs: list[tuple[str, int]] = []
        for i, entry in enumerate(index.entries):
            words = {entry.key.lower(), *filter_text(entry).lower().replace("-", " ").split()}
            pairs.extend((word, i) for word in words)
        pairs.sort()
        self._words = [w for w, _ in pairs]
        self._rows = [i for _, i in pairs]

    def rows(self, typed: str) -> list[int]:
        """Positions of the entries with a word starting with ``typed`` (lower case), in .bib order."""
        lo = bisect.bisect_left(self._words, typed)
        hi = bisect.bisect_left(self._words, typed + "\U0010ffff", lo)
        return sorted(set(self._rows[lo:hi]))


def prefix_index(index: BibIndex) -> PrefixIndex:
    """The ``PrefixIndex`` of ``index`` (built once; the last two bibliographies' kept)."""
    return _INDEXES.get(index, PrefixIndex)
