"""The listwise ranker: it learns what separates gold from the rest, round-trips through JSON, explains itself."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from startref.citations.errors import ModelError, ModelNotFoundError
from startref.citations.features import FEATURE_NAMES
from startref.citations.ranker import (
    EXPANDED_NAMES,
    MLP_INPUT_NAMES,
    LinearRanker,
    MlpRanker,
    expand,
    fit_listwise,
    fit_mlp_listwise,
    load_ranker,
    mlp_inputs,
    query_gates,
)


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
        x[gold, j] += 4.0
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


def _interaction_groups(seed: int, n_queries: int = 300, n_entries: int = 20) -> list[tuple[np.ndarray, np.ndarray]]:
    """Gold is the entry with the highest 'hist_lex' when the query says "et al." and the highest 'bm25_near'
    otherwise: no single linear weighting of the two gets both kinds of query right."""
    rng = np.random.default_rng(seed)
    groups = []
    for q in range(n_queries):
        x = np.zeros((n_entries, len(FEATURE_NAMES)), np.float32)
        for name in ("hist_lex", "bm25_near", "enc_sim", "bm25"):  # two informative columns, two of noise
            x[:, FEATURE_NAMES.index(name)] = rng.normal(size=n_entries)
        etal = q % 2
        x[:, FEATURE_NAMES.index("query_etal")] = etal
        col = FEATURE_NAMES.index("hist_lex" if etal else "bm25_near")
        gold = np.zeros(n_entries, dtype=bool)
        gold[int(np.argmax(x[:, col]))] = True
        groups.append((x, gold))
    return groups


def _hit1(ranker, groups) -> float:  # type: ignore[no-untyped-def]
    return float(np.mean([int(np.argmax(ranker.score(x))) == int(np.argmax(g)) for x, g in groups]))


def test_mlp_learns_an_interaction_the_linear_ranker_cannot(tmp_path: Path) -> None:
    train, test = _interaction_groups(0), _interaction_groups(1)
    mlp = fit_mlp_listwise(train, hidden=8, steps=300)
    linear = fit_listwise(train)
    assert _hit1(mlp, test) > 0.8
    assert _hit1(mlp, test) > _hit1(linear, test) + 0.2
    mlp.save(tmp_path / "ranker.json")
    again = load_ranker(tmp_path)
    assert isinstance(again, MlpRanker)
    x = test[0][0]
    assert np.allclose(again.score(x), mlp.score(x), atol=1e-3)
    contrib = again.contributions(x)
    assert contrib.shape == (len(x), len(FEATURE_NAMES))
    # For the "et al." query the gold entry's lift comes from hist_lex, not from bm25_near.
    g = int(np.argmax(test[1][1]))
    c = again.contributions(test[1][0])[g]
    assert c[FEATURE_NAMES.index("hist_lex")] > c[FEATURE_NAMES.index("bm25_near")]
    # Explaining one candidate alone needs the list's gates: with them its row matches the whole list's row.
    x = test[1][0]
    x[:, FEATURE_NAMES.index("cited")] = np.arange(len(x)) % 2  # half cited: gates differ from one row's own
    for ranker in (again, linear):
        whole = ranker.contributions(x)[g]
        alone = ranker.contributions(x[g : g + 1], query_gates(x))[0]
        assert np.allclose(alone, whole, atol=1e-5)
    # without them the MLP (whose hidden layer reads the gates) explains a different score
    assert not np.allclose(again.contributions(x[g : g + 1])[0], again.contributions(x)[g], atol=1e-5)


def test_mlp_inputs_hold_the_gates_on_every_row() -> None:
    x = np.random.default_rng(0).normal(size=(4, len(FEATURE_NAMES))).astype(np.float32)
    z = mlp_inputs(x)
    assert z.shape == (4, len(MLP_INPUT_NAMES))
    assert np.all(z[:, len(EXPANDED_NAMES) :] == z[0, len(EXPANDED_NAMES) :])
    assert mlp_inputs(np.zeros((0, len(FEATURE_NAMES)), np.float32)).shape == (0, len(MLP_INPUT_NAMES))


def test_a_saved_file_missing_inputs_still_loads(tmp_path: Path) -> None:
    """Rankers are saved by input name: one written before a feature existed scores with it held at its mean."""
    mlp = fit_mlp_listwise(_synthetic_groups(n_queries=30), hidden=4, steps=20)
    data = mlp.to_json()
    drop = data["inputs"].index("bm25_after")
    for name in ("inputs", "mean", "scale", "linear"):
        del data[name][drop]
    data["hidden"] = [row[:drop] + row[drop + 1 :] for row in data["hidden"]]
    (tmp_path / "ranker.json").write_text(json.dumps(data))
    again = load_ranker(tmp_path)
    assert np.isfinite(again.score(_synthetic_groups(seed=5, n_queries=1)[0][0])).all()


def test_shipped_ranker_loads_and_bad_files_are_clear(tmp_path: Path) -> None:
    from startref.citations.tree_ensemble import EnsembleRanker

    shipped = load_ranker()
    assert isinstance(shipped, EnsembleRanker) and isinstance(shipped.members[0], MlpRanker)
    assert np.isfinite(shipped.score(_synthetic_groups(n_queries=1)[0][0])).all()
    (tmp_path / "ranker.json").write_text('{"kind": "forest"}')
    with pytest.raises(ModelError) as err:
        load_ranker(tmp_path)
    assert "forest" in str(err.value)
    with pytest.raises(ModelNotFoundError):
        load_ranker(tmp_path / "nowhere")
    (tmp_path / "ranker.json").write_text("{not json")
    with pytest.raises(ModelError) as err:
        load_ranker(tmp_path)
    assert "ranker.json" in str(err.value)


def test_mlp_members_average_into_one_network() -> None:
    """Three networks averaged are saved as one: its score is the mean of the members' scores."""
    groups = _synthetic_groups(n_queries=40)
    merged = fit_mlp_listwise(groups, hidden=4, steps=30, members=2, seed=7)
    alone = [fit_mlp_listwise(groups, hidden=4, steps=30, members=1, seed=s) for s in (7, 8)]
    x = _synthetic_groups(seed=9, n_queries=1)[0][0]
    assert merged.hidden.shape[0] == 8 and merged.meta["members"] == 2
    assert np.allclose(merged.score(x), (alone[0].score(x) + alone[1].score(x)) / 2, atol=1e-4)
