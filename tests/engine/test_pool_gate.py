"""The pool gate: it moves the cited-before pool as one block, learns what the base ranker misses about the pool,
and round-trips through the ranker file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from startref.citations.features import FEATURE_NAMES
from startref.citations.pool_gate import (
    POOL_FEATURE_NAMES, GatedRanker, PoolGate, fit_pool_gate, fit_strength, gate_table, mass_logodds, pool_features,
)
from startref.citations.ranker import LinearRanker, load_ranker

_C = {n: i for i, n in enumerate(FEATURE_NAMES)}


def _base() -> LinearRanker:
    """A base ranker that only reads bm25_near: it cannot tell which pool the cursor wants."""
    from startref.citations.ranker import EXPANDED_NAMES

    w = np.zeros(len(EXPANDED_NAMES), np.float32)
    w[EXPANDED_NAMES.index("bm25_near")] = 1.0
    return LinearRanker(EXPANDED_NAMES, w)


def _cases(seed: int, n: int = 400) -> list[tuple[np.ndarray, np.ndarray]]:
    """Lists of 20 entries, 8 cited before; in a results section (query_section_results = 1) the gold entry is a
    cited one, elsewhere a new one; bm25_near points to the gold entry only weakly."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = np.zeros((20, len(FEATURE_NAMES)), np.float32)
        x[:8, _C["cited"]] = 1
        results = rng.random() < 0.5
        x[:, _C["query_section_results"]] = float(results)
        x[:, _C["bm25_near"]] = rng.normal(size=20)
        gold = np.zeros(20, bool)
        gold[rng.integers(0, 8) if results else rng.integers(8, 20)] = True
        x[gold, _C["bm25_near"]] += 1.0
        out.append((x, gold))
    return out


def test_pool_features_need_both_pools() -> None:
    x = np.zeros((5, len(FEATURE_NAMES)), np.float32)
    assert pool_features(x, np.zeros(5)) is None  # nothing cited yet: no pool to choose
    x[:, _C["cited"]] = 1
    assert pool_features(x, np.zeros(5)) is None
    x[0, _C["cited"]] = 0
    pf = pool_features(x, np.arange(5.0))
    assert pf is not None and pf.shape == (len(POOL_FEATURE_NAMES),)
    assert pf[POOL_FEATURE_NAMES.index("score_top_cited")] == 4.0
    assert pf[POOL_FEATURE_NAMES.index("score_top_new")] == 0.0


def test_the_shift_moves_a_whole_pool_and_sets_its_mass() -> None:
    """At strength 1 the cited pool's mass becomes the gate's probability; the order inside each pool stays."""
    x, _ = _cases(0, 1)[0]
    scores = np.random.default_rng(1).normal(size=20)
    gate = PoolGate(np.zeros(len(POOL_FEATURE_NAMES)), np.ones(len(POOL_FEATURE_NAMES)),
                    np.zeros(len(POOL_FEATURE_NAMES)), bias=1.5, strength=1.0)
    cited = x[:, _C["cited"]] > 0
    shift = gate.shift(x, scores)
    assert shift == 1.5
    moved = scores + shift * cited
    assert np.isclose(mass_logodds(moved, cited), mass_logodds(scores, cited) + 1.5)
    for pool in (cited, ~cited):
        assert (np.argsort(moved[pool]) == np.argsort(scores[pool])).all()


def test_the_gate_learns_the_pool_from_the_section_and_lifts_hit_at_1(tmp_path: Path) -> None:
    base = _base()
    train = [(x, g, base.score(x)) for x, g in _cases(0)]
    x, y, off, used = gate_table(train)
    assert len(y) == len(train) and 0.3 < y.mean() < 0.7
    gate = fit_pool_gate(x, y, off)
    assert gate.weights[POOL_FEATURE_NAMES.index("query_section_results")] > 0.5
    strength, by_strength = fit_strength(train, gate.correction(x), used)
    assert strength > 0 and by_strength[strength] > by_strength[0.0] + 0.05
    gate.strength = strength
    gated = GatedRanker(base, gate, {"note": "test"})
    test = _cases(1)
    hit = lambda r: np.mean([bool(g[int(np.argmax(r.score(f)))]) for f, g in test])  # noqa: E731
    assert hit(gated) > hit(base) + 0.05
    gated.save(tmp_path / "ranker.json")
    again = load_ranker(tmp_path)
    assert isinstance(again, GatedRanker) and again.meta == {"note": "test"}
    f = test[0][0]
    assert np.allclose(again.score(f), gated.score(f), atol=1e-4)
    assert np.allclose(again.contributions(f), base.contributions(f), atol=1e-4)
    data = json.loads((tmp_path / "ranker.json").read_text())
    assert data["kind"] == "pool-gated" and data["base"]["kind"] == "linear-listwise"
