"""A thread-safe LRU cache bounded by (estimated) bytes, not by item count — and the on-disk cache's pruning.

Why bytes: every cache in a long-running server used to be bounded by a count (50,000 query texts, 64 embedding
matrices, 32 feature indexes), so its memory depended on what happened to be cached: an editor sending new
``bib_text`` or long documents grew the server by ~45 MB a minute with no plateau. A cap in bytes is what the
README can promise. Sizes are estimates (``sizeof`` per item, written next to each cache), good to a small factor;
the soak benchmark (``bench/soak.py``) shows the resulting curve.

``prune_directory`` does the same for the on-disk embedding cache: least recently used files go first (reads
touch a file's mtime), until the folder is under its budget.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Generic, TypeVar

__all__ = ["ByteLRU", "prune_directory", "touch", "env_megabytes"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def env_megabytes(name: str, default_mb: int) -> int:
    """A byte budget from the environment variable ``name`` (in MB), else ``default_mb``; bad values: default."""
    raw = os.environ.get(name, "").strip()
    try:
        mb = float(raw) if raw else float(default_mb)
    except ValueError:
        mb = float(default_mb)
    return max(0, int(mb * 1024 * 1024))


class ByteLRU(Generic[K, V]):
    """Least-recently-used mapping whose items' ``sizeof`` sum stays under ``max_bytes``.

    The newest item is always kept, even when it alone is over the budget (a request's own bibliography must
    stay usable while it is being answered); older items are dropped first. ``put`` keeps an existing value for
    the key (two threads that computed the same thing end up sharing one object) and returns the kept value.
    """

    def __init__(self, max_bytes: int, sizeof: Callable[[V], int]) -> None:
        self.max_bytes = max_bytes
        self._sizeof = sizeof
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            self._items.move_to_end(key)
            return hit[0]

    def put(self, key: K, value: V, size: int | None = None) -> V:
        """Insert (``size`` overrides ``sizeof`` when the key itself is large, e.g. a long text)."""
        size = max(0, int(self._sizeof(value) if size is None else size))
        with self._lock:
            existing = self._items.get(key)
            if existing is not None:
                self._items.move_to_end(key)
                return existing[0]
            self._items[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes and len(self._items) > 1:
                _old, (_value, old_size) = self._items.popitem(last=False)
                self._bytes -= old_size
            return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        """The estimated bytes held now."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items


def touch(path: Path) -> None:
    """Mark a cache file as just used (its mtime is the LRU clock of ``prune_directory``); best effort."""
    try:
        os.utime(path, None)
    except OSError:
        pass


def prune_directory(folder: Path, max_bytes: int, pattern: str = "*") -> list[Path]:
    """Delete the least recently used files matching ``pattern`` in ``folder`` until the rest fit ``max_bytes``.

    Returns the removed files. Files another process is writing are renamed into place atomically, so a reader
    sees a whole file or none; a file removed under a reader only costs that reader a recomputation.
    """
    try:
        files = [(p, p.stat()) for p in folder.glob(pattern) if p.is_file()]
    except OSError:
        return []
    total = sum(st.st_size for _p, st in files)
    removed: list[Path] = []
    now = time.time()
    for path, st in sorted(files, key=lambda item: item[1].st_mtime):
        if total <= max_bytes:
            break
        if now - st.st_mtime < 1.0 and len(files) - len(removed) <= 1:
            break  # never remove the file just written when it is the only one
        try:
            path.unlink()
        except OSError:
            continue
        total -= st.st_size
        removed.append(path)
    return removed
