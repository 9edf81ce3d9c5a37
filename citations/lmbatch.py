"""Run per-placeholder LM-stage calls concurrently, results in input order.

Why: ``annotate`` on a paper with 40 placeholders makes 40 LM-stage calls. A model server (vLLM, llama.cpp with
``--parallel``) batches concurrent requests, so sending them one at a time leaves a GPU mostly idle. Threads are
enough: the calls wait on HTTP. The in-process LM serialises on its own lock, so concurrency is harmless there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TypeVar

__all__ = ["map_in_order"]

T = TypeVar("T")


def map_in_order(fn: Callable[[int], T], items: Iterable[int], concurrency: int = 1,
                 progress: Callable[[int, int], None] | None = None) -> list[T]:
    """``[fn(i) for i in items]`` with up to ``concurrency`` calls at once; ``progress(done, total)`` as each ends."""
    todo = list(items)
    if concurrency <= 1 or len(todo) <= 1:
        out = []
        for n, item in enumerate(todo):
            out.append(fn(item))
            if progress:
                progress(n + 1, len(todo))
        return out
    results: dict[int, T] = {}
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="startref-annotate") as pool:
        futures = {pool.submit(fn, item): n for n, item in enumerate(todo)}
        for done, future in enumerate(as_completed(futures), 1):
            results[futures[future]] = future.result()
            if progress:
                progress(done, len(todo))
    return [results[n] for n in range(len(todo))]
