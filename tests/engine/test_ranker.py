"""The listwise ranker: it learns what separates gold from the rest, round-trips through JSON, explains itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from startref.citations.errors import ModelError, ModelNotFoundError
from startref.citations.features import FEATURE_NAMES
from startref.citations.ranker import EXPANDED_NAMES, LinearRanker, expand, fit_listwise, load_ranker


def _synthetic_groups(seed: int = 0, n_queries: int = 200, n_entries: int = 30) -> list[tuple[np.ndarray, np.ndarray]]:
    """Queries whose gold entry has a high 'bm25_near' and is uncited; everything else is noise."""
    rng = np.random.default_rng(seed)
    j = FEATURE_NAMES.index("bm25_near")
    groups = []
    for _ in range(n_queries):
        x = rng.normal(size=(n_entries, len(FEATURE_NAMES))).astype(np.float32)
        x[:, FEATURE_NAMES.index("cited")] = rng.random(n_entries) < 0.3
        gold = np.zeros(n_entries, dtype=bool)
        gold[rng.integers(n_entries)] = True
        x[gold, j] += 3.0
        groups.append((x, gold))
    return groups


def test_fit_learns_the_informative_feature_and_ranks_gold_first() -> None:
    ranker = fit_listwise(_synthetic_groups())
    w = dict(zip(ranker.feature_names, ranker.weights))
    assert w["bm25_near"] > 2 * max(abs(w[n]) for n in FEATURE_NAMES if n != "bm25_near")
    hits = [int(np.argmax(ranker.score(x))) == int(np.argmax(g)) for x, g in _synthetic_groups(seed=1)]
    assert np.mean(hits) > 0.8


def test_expand_shape_and_cited_only_columns() -> None:
    x = np.random.default_rng(0).normal(size=(5, len(FEATURE_NAMES))).astype(np.float32)
    x[:, FEATURE_NAMES.index("cited")] = [1, 0, 0, 1, 0]
    e = expand(x)
    assert e.shape == (5, len(EXPANDED_NAMES))
    cited_cols = [i for i, n in enumerate(EXPANDED_NAMES) if n.startswith("cited*")]
    assert np.all(e[[1, 2, 4]][:, cited_cols] == 0)


def test_json_round_trip_and_contributions_sum_to_the_score(tmp_path: Path) -> None:
    ranker = fit_listwise(_synthetic_groups(n_queries=50))
    ranker.save(tmp_path / "ranker.json")
    again = load_ranker(tmp_path)
    x = _synthetic_groups(seed=3, n_queries=1)[0][0]
    assert np.allclose(again.score(x), ranker.score(x), atol=1e-4)
    assert np.allclose(again.contributions(x).sum(axis=1), again.score(x), atol=1e-3)


def test_ablation_keep_zeroes_everything_else() -> None:
    ranker = fit_listwise(_synthetic_groups(n_queries=50), keep=["bm25_near"])
    nonzero = {n for n, w in zip(ranker.feature_names, ranker.weights) if w != 0}
    assert nonzero == {"bm25_near"}


def test_shipped_ranker_loads_and_bad_files_are_clear(tmp_path: Path) -> None:
    shipped = load_ranker()
    assert isinstance(shipped, LinearRanker) and np.isfinite(shipped.weights).all()
    with pytest.raises(ModelNotFoundError):
        load_ranker(tmp_path / "nowhere")
    (tmp_path / "ranker.json").write_text("{not json")
    with pytest.raises(ModelError) as err:
        load_ranker(tmp_path)
    assert "ranker.json" in str(err.value)
