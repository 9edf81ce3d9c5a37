"""Which entries of a bibliography are the same work under different keys (same DOI, arXiv id or title).

Why a module: three checks need it — duplicate entries in the .bib, one work cited under two keys in the text,
and the mis-citation check, which must not propose ``smith2019_arxiv`` as "far more likely" than the
``smith2019`` that was cited (they are the same paper).

Titles are compared in ``normalize_title`` form (the resolver's), and only titles long enough to name one work:
two entries titled "Introduction" or "Data" are not duplicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from startref.citations.bibindex import BibIndex, Entry
from startref.citations.normalize import normalize_title

__all__ = ["SameWork", "same_work_groups", "same_work_map", "MIN_TITLE_WORDS", "MIN_TITLE_CHARS"]

#: A normalised title must have at least this many words and characters to identify a work on its own.
MIN_TITLE_WORDS = 4
MIN_TITLE_CHARS = 24


@dataclass(frozen=True)
class SameWork:
    """Entries (in .bib order, at least two) that are one work, and why we think so (``doi``, ``arxiv``, ``title``)."""

    entries: tuple[Entry, ...]
    reason: str
    value: str

    def describe(self) -> str:
        what = {"doi": "DOI", "arxiv": "arXiv id", "title": "title"}[self.reason]
        return f"same {what} {self.value!r}" if self.reason != "title" else "same title"


def _title_id(entry: Entry) -> str:
    norm = normalize_title(entry.title)
    if len(norm) < MIN_TITLE_CHARS or len(norm.split()) < MIN_TITLE_WORDS:
        return ""
    return norm


def same_work_groups(index: BibIndex) -> list[SameWork]:
    """Groups of entries that share a DOI, an arXiv id or a (long enough) normalised title, strongest evidence
    first; each pair of entries is reported once, by the first evidence that joins them."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.get(key, key) != key:
            parent[key] = parent.get(parent[key], parent[key])
            key = parent[key]
        return key

    groups: list[SameWork] = []
    for reason, ident in (("doi", lambda e: e.doi), ("arxiv", lambda e: e.arxiv_id.lower()), ("title", _title_id)):
        by_value: dict[str, list[Entry]] = {}
        for entry in index.entries:
            value = ident(entry)
            if value:
                by_value.setdefault(value, []).append(entry)
        for value, members in by_value.items():
            fresh: list[Entry] = []
            roots: set[str] = set()
            for entry in members:
                root = find(entry.key)
                if root not in roots:
                    roots.add(root)
                    fresh.append(entry)
            if len(fresh) < 2:
                continue
            for entry in fresh[1:]:
                parent[find(entry.key)] = find(fresh[0].key)
            shown = members[0].title if reason == "title" else value
            groups.append(SameWork(tuple(fresh), reason, shown))
    return groups


def same_work_map(groups: Sequence[SameWork]) -> dict[str, frozenset[str]]:
    """key -> the keys of every entry that is the same work (itself included), for keys in some group."""
    out: dict[str, set[str]] = {}
    for group in groups:
        keys = {e.key for e in group.entries}
        for key in keys:
            out.setdefault(key, set()).update(keys)
    # groups joined through different evidence (A~B by DOI, B~C by title) are one work
    changed = True
    while changed:
        changed = False
        for key, keys in out.items():
            union = set().union(*(out.get(k, {k}) for k in keys))
            if union != keys:
                out[key] = union
                changed = True
    return {k: frozenset(v) for k, v in out.items()}
