"""The sentence encoder wrapper: unit vectors, caches, and the shipped fine-tuned adapter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from startref.citations.encoder import load_encoder
from startref.citations.encoder_training import ADAPTER_FILE
from startref.citations.errors import ModelError
from startref.citations.ranker import default_ranker_path

SHIPPED = default_ranker_path().parent


def test_embeddings_are_unit_vectors_and_cached() -> None:
    enc = load_encoder()
    texts = ["We train a deep residual network.", "Deep Residual Learning for Image Recognition", ""]
    a = enc.encode(texts)
    assert a.shape == (3, enc.dim)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    assert np.array_equal(enc.encode(texts), a)  # second call comes from the cache, identical


def test_shipped_adapter_changes_the_top_layers_and_keeps_meaning() -> None:
    assert (SHIPPED / ADAPTER_FILE).is_file()
    base = load_encoder()
    tuned = load_encoder(adapter=SHIPPED)
    assert tuned is not base and "adapter" in tuned.name
    ctx = ["Training very deep plain networks is hard, so we use residual connections"]
    titles = ["Deep Residual Learning for Image Recognition", "Soil Bacteria of Alpine Meadows"]
    for enc in (base, tuned):
        sims = enc.encode(titles) @ enc.encode(ctx)[0]
        assert sims[0] > sims[1]
    assert not np.allclose(base.encode(ctx), tuned.encode(ctx))


def test_a_broken_adapter_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / ADAPTER_FILE).write_bytes(b"not safetensors")
    with pytest.raises(ModelError) as err:
        load_encoder(adapter=tmp_path)
    assert ADAPTER_FILE in str(err.value)


def test_texts_of_very_different_lengths_are_batched_apart_and_embed_as_alone() -> None:
    from startref.citations.encoder import _similar_length_chunks

    texts = ["x" * 20, "y" * 400, "z" * 25, "w" * 420, "v" * 2000]
    chunks = _similar_length_chunks(range(len(texts)), texts)
    assert chunks == [[0, 2], [1, 3], [4]]
    enc = load_encoder()
    mixed = ["A long paragraph about residual networks and image recognition benchmarks " * 6 + "mixed",
             "short query mixed", "ResNet mixed"]
    together = enc.encode(mixed)
    alone = np.vstack([load_encoder().encode([t + " "]) for t in mixed])  # a trailing space: not an LRU hit
    assert np.allclose(together, alone, atol=1e-4)


def test_a_traced_copy_is_kept_then_loaded_and_gives_the_same_vectors(tmp_path: Path) -> None:
    from startref.citations.encoder import SentenceEncoder
    from startref.citations.models import default_encoder_path

    first = SentenceEncoder(default_encoder_path(), cache_dir=tmp_path, adapter=SHIPPED)
    assert first._traced is None  # nothing cached yet: the transformers model, traced for next time
    assert sorted(p.suffix for p in (tmp_path / "traced-encoders").iterdir()) == [".json", ".pt"]
    second = SentenceEncoder(default_encoder_path(), cache_dir=tmp_path, adapter=SHIPPED)
    assert second._traced is not None and second.name == first.name and second.dim == first.dim
    texts = ["Deep Residual Learning for Image Recognition", "too long " * 300, "", "a padded batch of words"]
    assert np.allclose(first.encode(texts), second.encode(texts), atol=1e-5)
    # another adapter (none) is another network: it does not pick up this copy
    assert SentenceEncoder(default_encoder_path(), cache_dir=tmp_path)._traced is None


def test_a_damaged_traced_copy_falls_back_to_the_original(tmp_path: Path) -> None:
    from startref.citations.encoder import SentenceEncoder
    from startref.citations.models import default_encoder_path

    SentenceEncoder(default_encoder_path(), cache_dir=tmp_path)
    (copy,) = (tmp_path / "traced-encoders").glob("*.pt")
    copy.write_bytes(b"truncated")
    enc = SentenceEncoder(default_encoder_path(), cache_dir=tmp_path)
    assert enc._traced is None
    assert np.allclose(np.linalg.norm(enc.encode(["still works"]), axis=1), 1.0, atol=1e-4)
