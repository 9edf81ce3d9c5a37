"""Near keys: the entries a writer confuses with a given one (same first author, or a similar key string).

Why the check needs them: a wrong key is rarely a random entry. It is ``smith2019a`` for ``smith2019b``, the
author's other paper picked from the completion menu, a key one character off. Such a confusion is far more likely
a priori than any other, so when the entry that fits the spot better is a *near* key of the cited one, less
evidence should be needed to flag it -- and the ranker's margin to the best near key is a signal of its own, read
beside the margin to the best entry overall (``miscitation``). Issue 15's benchmark injects exactly these swaps
("same first author or similar key string"); the definition here is the same, widened to every similar key.
"""

from __future__ import annotations

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from startref.citations.bibindex import BibIndex

__all__ = ["NEAR_KEY_SIMILARITY", "NearKeys"]

#: Keys at least this similar (normalised Levenshtein, case-insensitive) are near.
NEAR_KEY_SIMILARITY = 0.6


class NearKeys:
    """For each key of one bibliography, its near keys (computed on first use, kept for the document)."""

    def __init__(self, index: BibIndex) -> None:
        self._index = index
        self._keys = [e.key for e in index.entries]
        self._folded = [k.casefold() for k in self._keys]
        self._by_author: dict[str, list[str]] = {}
        for e in index.entries:
            first = e.first_author.casefold().strip()
            if first:
                self._by_author.setdefault(first, []).append(e.key)
        self._cache: dict[str, frozenset[str]] = {}

    def of(self, key: str) -> frozenset[str]:
        """The near keys of ``key`` (an entry's key), itself excluded."""
        found = self._cache.get(key)
        if found is not None:
            return found
        entry = self._index.get(key)
        near: set[str] = set()
        if entry is not None:
            first = entry.first_author.casefold().strip()
            near.update(self._by_author.get(first, ()) if first else ())
            key = entry.key
        similar = process.extract(key.casefold(), self._folded, scorer=Levenshtein.normalized_similarity,
                                  limit=None, score_cutoff=NEAR_KEY_SIMILARITY)
        near.update(self._keys[i] for _match, _score, i in similar)
        near.discard(key)
        found = self._cache[key] = frozenset(near)
        return found
