"""Values built from the last few objects seen, found by the object's identity.

Why by identity: a big .bib's ranking data and its parsed index are immutable objects that the caches upstream
(``features.index_features``, ``bibindex.load_bibliography``) hand out again unchanged; what is derived from one
(the candidate stage's name maps, a completion menu's word index) is worth keeping exactly as long as the object is
in use. The object is held with its value, so an identity is never mistaken for a later object's.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["DerivedCache"]

S = TypeVar("S")
V = TypeVar("V")


class DerivedCache(Generic[S, V]):
    """``get(source, build)``: ``build(source)`` once per source object, the last ``keep`` kept; thread-safe (two
    threads asking for a new source at once may both build it; the later value is kept)."""

    def __init__(self, keep: int = 2) -> None:
        self._keep = keep
        self._items: OrderedDict[int, tuple[S, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, source: S, build: Callable[[S], V]) -> V:
        with self._lock:
            hit = self._items.get(id(source))
            if hit is not None and hit[0] is source:
                self._items.move_to_end(id(source))
                return hit[1]
        value = build(source)
        with self._lock:
            self._items[id(source)] = (source, value)
            while len(self._items) > self._keep:
                self._items.popitem(last=False)
        return value
