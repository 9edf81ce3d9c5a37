"""Caches bounded by bytes, and the on-disk cache pruned least recently used first (issue #11, memory)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from startref.citations import bibfile, bibindex
from startref.citations.bytecache import ByteLRU, prune_directory, touch


def test_byte_lru_evicts_oldest_by_bytes_and_keeps_the_newest() -> None:
    cache: ByteLRU[str, bytes] = ByteLRU(100, len)
    for i in range(10):
        cache.put(f"k{i}", b"x" * 30)
    assert cache.nbytes <= 100 and len(cache) == 3 and "k9" in cache and "k0" not in cache
    cache.get("k7")  # used: now the newest
    cache.put("k10", b"x" * 30)
    assert "k7" in cache and "k8" not in cache
    huge = cache.put("big", b"x" * 1000)  # over the budget alone: kept (the request needs it), the rest goes
    assert cache.get("big") is huge and len(cache) == 1
    first = cache.put("same", b"a" * 10)
    assert cache.put("same", b"b" * 10) is first  # a second parse of the same thing shares the first object


def test_bibliography_caches_are_bounded_by_bytes(monkeypatch) -> None:
    small = ByteLRU(200_000, lambda ix: bibindex._entries_bytes(ix.entries))
    monkeypatch.setattr(bibindex, "_INDEX_CACHE", small)
    for i in range(200):  # new bib_text on every request, as an editor sends it
        entries = "".join(f"@misc{{k{i}x{j}, title = {{Title {i} {j} {'word ' * 20}}}}}\n" for j in range(20))
        bibindex.parse_bib_text(entries)
    assert small.nbytes <= 200_000 and 1 <= len(small) < 200


def test_disk_cache_prunes_least_recently_used(tmp_path: Path) -> None:
    now = time.time()
    for i in range(6):
        path = tmp_path / f"{i}.npy"
        path.write_bytes(b"x" * 1000)
        os.utime(path, (now - 100 + i, now - 100 + i))
    touch(tmp_path / "0.npy")  # read recently: must survive
    removed = prune_directory(tmp_path, 3500, "*.npy")
    assert sorted(p.name for p in removed) == ["1.npy", "2.npy", "3.npy"]
    assert sorted(p.name for p in tmp_path.glob("*.npy")) == ["0.npy", "4.npy", "5.npy"]


def test_a_parse_leaves_no_garbage_cycles_behind() -> None:
    """A failed block's exception kept a traceback whose frames held the whole parse: a cycle that stayed
    resident until the cyclic GC ran (a 19 MB library left ~240 MB). Now nothing is left for it to find."""
    import gc

    abstract = "word " * 400
    text = "".join(f"@article{{k{i}, title = {{Title {i}}}, abstract = {{{abstract}}}}}\n" for i in range(300))
    text += "@article{broken, title = {Unclosed\n@article{after, title = {After}}\n"
    assert len(text) < bibfile._COLLECT_AFTER_CHARS  # the explicit collection for huge texts does not run
    gc.collect()
    gc.disable()
    try:
        index = bibindex.parse_bib_text(text, "<big>")
        assert len(index) == 301 and index.problems[0].kind == "parse_error"
        assert gc.collect() < 100  # before: thousands of unreachable parse objects per failed block
    finally:
        gc.enable()
