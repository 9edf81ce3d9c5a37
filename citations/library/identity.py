"""Is this library entry already in the paper's .bib, under whatever key? (DOI, arXiv id, normalised title.)

Why a module of its own: the ranking pool (hide library copies of entries the paper already has), the .bib
appender (never append a duplicate) and the benchmark (a same-work hit) must agree on what "the same work" means.
The order of the checks matters: a DOI or an arXiv id identifies a work; a title only when it is long enough not to
be generic ("Introduction", "Supplementary material" are titles of many different works).
"""

from __future__ import annotations

from collections.abc import Iterable

from startref.citations.bibindex import Entry
from startref.citations.normalize import normalize_title

__all__ = ["work_ids", "WorkIndex", "MIN_TITLE_CHARS"]

#: A normalised title shorter than this (or of fewer than three words) never identifies a work on its own.
MIN_TITLE_CHARS = 16


def _title_id(entry: Entry) -> str:
    title = normalize_title(entry.title) if entry.title else ""
    if len(title) < MIN_TITLE_CHARS or title.count(" ") < 2:
        return ""
    return title


def work_ids(entry: Entry) -> tuple[str, ...]:
    """The identifiers of the work an entry describes: ``doi:…``, ``arxiv:…``, ``title:…`` (those it has)."""
    ids: list[str] = []
    if entry.doi:
        ids.append("doi:" + entry.doi.lower())
    if entry.arxiv_id:
        ids.append("arxiv:" + entry.arxiv_id.lower())
    title = _title_id(entry)
    if title:
        ids.append("title:" + title)
    return tuple(ids)


class WorkIndex:
    """Identifier -> position, for finding "the same work" among many entries in O(identifiers)."""

    def __init__(self, entries: Iterable[Entry], ids: Iterable[tuple[str, ...]] | None = None) -> None:
        """``ids``: the entries' ``work_ids`` when already known (the library's cache keeps them: decoding 30k
        titles again would cost seconds)."""
        self._where: dict[str, int] = {}
        for i, wids in enumerate(ids if ids is not None else (work_ids(e) for e in entries)):
            for wid in wids:
                self._where.setdefault(wid, i)

    def find(self, entry: Entry) -> int | None:
        """Position of an entry describing the same work as ``entry``, or ``None``."""
        for wid in work_ids(entry):
            hit = self._where.get(wid)
            if hit is not None:
                return hit
        return None

    def __len__(self) -> int:
        return len(self._where)
