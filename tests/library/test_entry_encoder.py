"""The library's bulk entry encoder on real titles (a training paper's bibliography): batches cut by token count,
fp32 vectors equal to the request path's, bf16 vectors close to them, and the variant kept apart in every cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from startref.citations.encoder import load_encoder
from startref.citations.entry_encoder import entry_encoder, entry_precision, entry_variant, native_bf16, token_batches
from startref.citations.errors import ModelError
from startref.citations.library import open_library
from startref.citations.library import store as library_store
from startref.citations.library.indexing import embed_texts


@pytest.fixture(scope="module")
def titles(train_library: Path) -> list[str]:
    """Real titles (with their LaTeX decoded), plus the odd ones a library has: empty and one character."""
    return [e.title for e in open_library([str(train_library)]).index.entries][:240] + ["", "x"]


def test_batches_are_cut_by_token_count_so_they_pad_little(titles: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STARTREF_ENTRY_PRECISION", "fp32")
    bulk = entry_encoder(load_encoder())
    assert bulk is not None and bulk.variant == "fp32"
    ids = bulk.token_ids(titles)
    lengths = [len(t) for t in ids]
    batches = token_batches(lengths, size=16)
    assert sorted(i for b in batches for i in b) == list(range(len(titles)))
    assert all(len(b) <= 16 for b in batches)
    flat = [lengths[i] for b in batches for i in b]
    assert flat == sorted(flat)  # shortest first, so each batch spans neighbouring lengths
    def padded(batches: list[list[int]]) -> int:
        return sum(max(lengths[i] for i in b) * len(b) for b in batches)

    by_chars = sorted(range(len(titles)), key=lambda i: len(titles[i]))  # how indexing cut batches before
    assert padded(batches) < padded([by_chars[s : s + 16] for s in range(0, len(titles), 16)])
    assert padded(batches) <= 1.25 * sum(lengths), padded(batches) / sum(lengths)


def test_fp32_bulk_vectors_are_the_request_paths(titles: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STARTREF_ENTRY_PRECISION", "fp32")
    monkeypatch.setenv("STARTREF_INDEX_WORKERS", "2")
    enc = load_encoder()
    assert entry_variant(enc) == "fp32"
    np.testing.assert_allclose(embed_texts(enc, titles), enc.encode(titles), atol=2e-5)


def test_bf16_vectors_stay_within_a_hair_of_fp32_on_real_titles(titles: list[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    enc = load_encoder()
    monkeypatch.setenv("STARTREF_ENTRY_PRECISION", "bf16")  # emulated where the CPU lacks it: slower, same numbers
    assert entry_variant(enc) == "bf16"
    half = embed_texts(enc, titles)
    full = enc.encode(titles)
    cos = np.sum(half * full, axis=1)
    assert np.allclose(np.linalg.norm(half, axis=1), 1.0, atol=1e-5)
    assert cos.min() >= 0.999 and cos.mean() >= 0.9999, (cos.min(), cos.mean())
    assert np.abs(half - full).max() > 1e-4  # bf16 really ran: not the fp32 network under another name


def test_the_library_cache_and_vector_store_keep_each_variant_apart(train_library: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STARTREF_LIBRARY_CACHE_DIR", str(tmp_path / "lib"))
    enc = load_encoder()

    def index(precision: str) -> tuple[np.ndarray, list[tuple[int, int]], bool]:
        monkeypatch.setenv("STARTREF_ENTRY_PRECISION", precision)
        library_store._OPEN.clear()
        library = open_library([str(train_library)])
        needed = library.needs_indexing(enc)
        reports: list[tuple[int, int]] = []
        emb = np.array(library.features(enc, lambda done, total: reports.append((done, total))).emb)
        return emb, reports, needed

    full, reports, needed = index("fp32")
    assert needed and reports[0] == (0, len(full)) and reports[-1] == (len(full), len(full))
    half, reports, needed = index("bf16")
    # a new variant re-embeds every entry: neither the cached features nor the vector store give fp32 vectors
    assert needed and reports[0] == (0, len(half))
    assert not np.array_equal(half, full) and np.sum(half * full, axis=1).min() >= 0.999
    again, reports, needed = index("fp32")
    assert not needed and reports == [] and np.array_equal(again, full)  # each variant's own cache, untouched


def test_the_precision_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STARTREF_ENTRY_PRECISION", "int4")
    with pytest.raises(ModelError, match="STARTREF_ENTRY_PRECISION"):
        entry_precision()
    monkeypatch.setenv("STARTREF_ENTRY_PRECISION", "auto")
    assert entry_precision() == ("bf16" if native_bf16() else "fp32")


def test_a_big_bib_embeds_the_bulk_way_in_fp32_with_the_request_paths_vectors(
        titles: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A paper's own .bib of thousands of entries: ``encode_corpus`` takes the bulk path (token-count batches on
    every core) from ``BULK_MIN`` new texts on, always in fp32 (even where the library uses bf16: a paper's .bib
    keeps the vectors the ranker was trained on), and the vectors are the request path's."""
    from startref.citations import entry_encoder as entry_module
    from startref.citations.encoder import BULK_MIN, SentenceEncoder
    from startref.citations.models import default_encoder_path

    monkeypatch.setenv("STARTREF_ENTRY_PRECISION", "bf16")
    monkeypatch.setenv("STARTREF_INDEX_WORKERS", "2")
    enc = SentenceEncoder(default_encoder_path(), cache_dir=None)  # a fresh one: no entry vectors cached yet
    used: list[str] = []
    real = entry_module.entry_encoder

    def spy(encoder, variant=None):  # type: ignore[no-untyped-def]
        bulk = real(encoder, variant)
        used.append(bulk.variant if bulk is not None else "none")
        return bulk

    monkeypatch.setattr(entry_module, "entry_encoder", spy)
    few = titles[:20]
    np.testing.assert_allclose(enc.encode_corpus(few, "few"), enc.encode(few), atol=2e-5)
    assert used == []  # a handful of texts: the request path
    texts = [f"{t} ({i})" for i, t in enumerate(titles * (BULK_MIN // len(titles) + 2))][: BULK_MIN + 10]
    many = enc.encode_corpus(texts, "many")
    assert used == ["fp32"]
    np.testing.assert_allclose(many, enc.encode(texts), atol=2e-5)
