"""Boosted trees scored by numpy give LightGBM's own predictions; the z-mean ensemble and its file round-trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from startref.citations.errors import ModelError
from startref.citations.features import FEATURE_NAMES
from startref.citations.ranker import LinearRanker, fit_listwise, load_ranker
from startref.citations.tree_ensemble import TREE_INPUT_NAMES, EnsembleRanker, TreeRanker, tree_inputs, trees_from_lightgbm

_C = {n: i for i, n in enumerate(FEATURE_NAMES)}


def _groups(seed: int, n: int = 150) -> list[tuple[np.ndarray, np.ndarray]]:
    """Gold has a high bm25_near when uncited and a high hist_words when cited: an interaction trees can learn."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = rng.normal(size=(25, len(FEATURE_NAMES))).astype(np.float32)
        x[:, _C["cited"]] = rng.random(25) < 0.4
        gold = np.zeros(25, bool)
        gold[rng.integers(25)] = True
        x[gold, _C["hist_words" if x[gold, _C["cited"]][0] else "bm25_near"]] += 3.0
        out.append((x, gold))
    return out


def _stump(feature: str, threshold: float, low: float, high: float) -> TreeRanker:
    j = TREE_INPUT_NAMES.index(feature)
    return TreeRanker(np.array([[j, -1, -1]]), np.array([[threshold, 0, 0]]), np.array([[1, 1, 2]]),
                      np.array([[2, 1, 2]]), np.array([[True, True, True]]), np.array([[0.0, low, high]]), depth=1)


def test_a_hand_built_tree_scores_by_its_split() -> None:
    x = np.zeros((3, len(FEATURE_NAMES)), np.float32)
    x[:, _C["bm25_near"]] = [0.0, 2.0, 5.0]
    assert tree_inputs(x).shape == (3, len(TREE_INPUT_NAMES))
    assert _stump("bm25_near", 1.0, -1.0, 1.0).score(x).tolist() == [-1.0, 1.0, 1.0]


def test_numpy_trees_match_lightgbm_and_round_trip(tmp_path: Path) -> None:
    try:  # the train extra; its wheel also needs the system's OpenMP runtime (libgomp1)
        import lightgbm as lgb
    except (ImportError, OSError) as exc:
        pytest.skip(f"LightGBM is not usable here: {exc}")
    groups = _groups(0)
    x = np.concatenate([tree_inputs(f) for f, _ in groups])
    y = np.concatenate([g for _, g in groups]).astype(int)
    params = {"objective": "lambdarank", "num_leaves": 7, "min_data_in_leaf": 5, "verbose": -1, "num_threads": 1,
              "deterministic": True, "seed": 0}
    booster = lgb.train(params, lgb.Dataset(x, y, group=[len(g) for _, g in groups]), num_boost_round=30)
    trees = trees_from_lightgbm(booster, {"rounds": 30})
    test = _groups(1, 20)
    for f, _ in test:
        assert np.allclose(trees.score(f), booster.predict(tree_inputs(f)), atol=1e-5)
    hit = lambda r: np.mean([bool(g[int(np.argmax(r.score(f)))]) for f, g in _groups(2)])  # noqa: E731
    assert hit(trees) > 0.6
    trees.save(tmp_path / "ranker.json")
    again = load_ranker(tmp_path)
    assert isinstance(again, TreeRanker) and again.meta == {"rounds": 30}
    assert np.allclose(again.score(test[0][0]), trees.score(test[0][0]))


def test_the_ensemble_reranks_the_base_top_on_its_logit_scale_and_round_trips(tmp_path: Path) -> None:
    linear = fit_listwise(_groups(0, 60))
    stump = _stump("hist_words", 0.5, 0.0, 10.0)
    ensemble = EnsembleRanker([linear, stump], [1.0, 0.5], 100, {"members": "linear + stump"})
    f = _groups(3, 1)[0][0]
    z = lambda s: (s - s.mean()) / (s.std() + 1e-9)  # noqa: E731
    s = linear.score(f).astype(np.float64)
    mixed = ensemble.score(f)
    assert np.allclose(mixed, s.mean() + s.std() * (z(s) + 0.5 * z(stump.score(f))) / 1.5, atol=1e-4)
    assert mixed.std() <= s.std() * 1.001  # on the base's scale: the z-mean spreads no wider than the base
    # the order is the z-mean's; the scores stay in the base's units
    zmean = z(s) + 0.5 * z(stump.score(f))
    assert (np.argsort(-mixed, kind="stable") == np.argsort(-zmean, kind="stable")).all()
    # only the base's top k are re-ranked; the rest keep the base's scores
    top5 = EnsembleRanker([linear, stump], [1.0, 0.5], 5).score(f)
    rest = np.argsort(-s, kind="stable")[5:]
    assert np.allclose(top5[rest], s[rest], atol=1e-5) and not np.allclose(top5, s)
    assert np.allclose(ensemble.contributions(f), linear.contributions(f), atol=1e-5)  # trees add no account
    assert ensemble.score(f[:0]).shape == (0,)
    ensemble.save(tmp_path / "ranker.json")
    again = load_ranker(tmp_path)
    assert isinstance(again, EnsembleRanker) and isinstance(again.members[0], LinearRanker) and again.top_k == 100
    assert np.allclose(again.score(f), ensemble.score(f), atol=1e-4)
    data = json.loads((tmp_path / "ranker.json").read_text())
    data["weights"] = [1.0]
    (tmp_path / "ranker.json").write_text(json.dumps(data))
    with pytest.raises(ModelError, match="2 members and 1 weights"):
        load_ranker(tmp_path)
    data = {"kind": "trees", "inputs": ["no_such_input"], "depth": 1, "feature": [[0, -1, -1]],
            "threshold": [[0, 0, 0]], "left": [[1, 1, 2]], "right": [[2, 1, 2]], "default_left": [[1, 1, 1]],
            "value": [[0, 0, 1]]}
    (tmp_path / "ranker.json").write_text(json.dumps(data))
    with pytest.raises(ModelError, match="no_such_input"):
        load_ranker(tmp_path)


def test_the_ensemble_takes_the_gates_of_another_list() -> None:
    """A library list is scored with the gates of the paper's own list (citations/library): the ensemble passes
    them to every member instead of computing its own."""
    from startref.citations.ranker import query_gates

    linear = fit_listwise(_groups(0, 60))
    stump = _stump("query_share_cited", 0.5, 0.0, 10.0)
    ensemble = EnsembleRanker([linear, stump], [1.0, 1.0], 100)
    f = _groups(4, 1)[0][0]
    own = query_gates(f)
    other = own.copy()
    other[1] = 0.9  # query_share_cited: most of the paper already cited
    assert np.allclose(ensemble.score(f, own), ensemble.score(f), atol=1e-5)
    assert not np.allclose(ensemble.score(f, other), ensemble.score(f), atol=1e-3)
