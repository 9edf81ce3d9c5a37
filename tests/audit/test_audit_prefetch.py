"""The check's embedding prefetch: batches bounded by characters, every text embedded once, the vectors the encoder
gives one text at a time, and the freed memory handed back."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from startref.citations.audit.prefetch import (
    BATCH_CHARS,
    MAX_BATCH,
    prefetch_embeddings,
    release_free_memory,
    text_batches,
)
from startref.citations.evaluation import load_paper, mine_cases
from startref.citations.features import encoder_texts
from startref.latex.cites import find_cites
from startref.latex.commands import syntax_with_user_wrappers


def test_batches_hold_every_distinct_text_once_within_the_budget() -> None:
    texts = ["x" * n for n in (5, 900, 40, 40, 300, 2000, 7, 610, 150, 150, 90)] + ["short"] * 50
    batches = text_batches(texts, budget=1200, most=4)
    flat = [t for b in batches for t in b]
    assert sorted(flat) == sorted(set(texts))  # deduplicated, nothing lost
    assert [len(t) for t in flat] == sorted(len(t) for t in flat)  # shortest first: similar lengths together
    for batch in batches:
        assert len(batch) <= 4
        assert len(batch) == 1 or len(batch) * max(map(len, batch)) <= 1200
    assert ["x" * 2000] in batches  # longer than the budget: alone


def test_defaults_keep_long_contexts_in_small_batches() -> None:
    long = [f"{i} " + "word " * 150 for i in range(40)]  # ~750 characters: a full 128-token context
    short = [f"{i} few words" for i in range(100)]
    batches = text_batches(long + short)
    assert max(len(b) for b in batches if len(b[0]) > 700) <= BATCH_CHARS // 700
    assert max(len(b) for b in batches) == MAX_BATCH  # the short ones still go many at a time


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim is glibc's")
def test_free_memory_is_released_on_linux() -> None:
    assert release_free_memory() is True


def test_prefetched_vectors_are_the_encoders_own(engine, bench_papers: Path, monkeypatch) -> None:
    loaded = load_paper(bench_papers / "txa__substitution" / "paper.lagda")
    cites = find_cites(loaded.text, syntax_with_user_wrappers(loaded.text))
    texts = [t for case in mine_cases(loaded.text, loaded.index, cites) for t in encoder_texts(case.query).values()]
    engine.encoder.forget_texts()
    alone = np.vstack([engine.encoder.encode([t]) for t in texts[:12]])
    engine.encoder.forget_texts()
    seen: list[tuple[int, int]] = []
    prefetch_embeddings(engine, texts, workers=2, progress=lambda done, total: seen.append((done, total)))
    total = len(text_batches(texts))
    assert seen[-1] == (total, total) and len(seen) == total
    computed: list[int] = []
    real = engine.encoder._encode_batch
    monkeypatch.setattr(engine.encoder, "_encode_batch", lambda batch: computed.append(len(batch)) or real(batch))
    cached = engine.encoder.encode(texts)  # every text from the cache the prefetch filled
    assert computed == []
    np.testing.assert_allclose(cached[:12], alone, atol=1e-5)
