"""Embed a whole document's sentence texts before the check ranks them, in small batches, without the memory growing.

Why small batches: the check embeds ~900 texts (3 per cite) where ``suggest`` embeds 3. In batches of 32 texts of up
to 128 tokens, two threads at once, MiniLM's activations (attention maps, the 1536-wide feed-forward layer) took the
process from 358 to 677 MB on the 300-cite benchmark paper (``bench/check_speed.py``), twice ``suggest``'s peak. The
cost of embedding a text hardly depends on the batch size on a CPU (measured: 22-23 CPU seconds for those texts in
batches of 2, 4, 8 or 32), so a batch here holds at most ``BATCH_CHARS`` characters (4-5 of the longest contexts,
up to ``MAX_BATCH`` short ones), which keeps the activations a few MB.

Why ``malloc_trim``: the blocks freed after each batch stay in glibc's per-thread heaps and the resident size keeps
growing with every batch of a new shape (batches are sorted by length, so each is a little longer than the last);
returning the free pages after each batch kept the peak at +73 MB instead of +150 MB, and leaves a long-running
server or language server at about its size before the check. A no-op where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from startref.citations.encoder import encode_batches

if TYPE_CHECKING:
    from startref.citations.engine import Engine

__all__ = ["BATCH_CHARS", "MAX_BATCH", "text_batches", "prefetch_embeddings", "release_free_memory"]

#: A batch's texts are padded to its longest: at most this many characters of that length in one batch.
BATCH_CHARS = 1536
#: At most this many (short) texts in one batch.
MAX_BATCH = 32


def text_batches(texts: Sequence[str], budget: int = BATCH_CHARS, most: int = MAX_BATCH) -> list[list[str]]:
    """The distinct ``texts``, shortest first, cut into batches whose size times their longest text's length stays
    within ``budget`` characters (a text longer than ``budget`` goes alone), at most ``most`` texts each."""
    batches: list[list[str]] = []
    for text in sorted(set(texts), key=len):
        last = batches[-1] if batches else None
        if last is not None and len(last) < most and (len(last) + 1) * len(text) <= budget:
            last.append(text)
        else:
            batches.append([text])
    return batches


@lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        trim = libc.malloc_trim  # glibc only
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Give the C heap's free pages back to the system (glibc ``malloc_trim``); False where that is not available."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def prefetch_embeddings(
    engine: "Engine", texts: Sequence[str], workers: int = 1, progress: Callable[[int, int], None] | None = None
) -> None:
    """Embed ``texts`` into the encoder's cache (``text_batches``), ``workers`` batches at a time, returning the
    freed memory after each batch."""
    batches = text_batches(texts)
    for n, _ in enumerate(encode_batches(engine.encoder, batches, workers, "startref-check"), 1):
        release_free_memory()
        if progress:
            progress(n, len(batches))
