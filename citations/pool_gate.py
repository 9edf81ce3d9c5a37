"""The pool gate: decide "an entry cited before" vs "a new one" per cursor, then move the two pools accordingly.

Why: the ranker scores every entry on its own, and the choice between the two pools falls out of those scores
only indirectly. On the dev set the top suggestion came from the wrong pool in 22% of the cases, and an oracle
choice of pool would lift hit@1 by six points. A gate trained for that one decision sees the whole list at once:
how the ranker's scores are spread over each pool (the best score, its lead over the second, the softmax mass of
each pool) next to the query-level evidence (how many entries are cited so far, how far back the last citation is,
the section's kind, whether the words here repeat an earlier citation's words).

How it combines: the ranker's own log-odds of the cited pool (from the softmax mass of each pool) are the gate's
starting point, and the gate learns a correction to them (a logistic regression with that log-odds as its offset,
so regularisation pulls it toward the ranker's belief rather than toward a coin toss). Every already-cited entry's
score then moves by ``strength * correction``: adding one constant to a pool multiplies that pool's odds by its
exponential, so at strength 1 the list's cited-pool mass equals the gate's probability; the order inside each pool
never changes. The gate is a few dozen named weights in the ranker file (numpy at run time).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from startref.citations.features import FEATURE_NAMES
from startref.citations.ranker import Ranker, query_gates

__all__ = ["POOL_FEATURE_NAMES", "pool_features", "PoolGate", "GatedRanker", "fit_pool_gate", "fit_strength",
           "gated_from_json"]

_COL = {name: i for i, name in enumerate(FEATURE_NAMES)}
_CITED = _COL["cited"]
# Query-level columns (the same value on every row): read from the first row.
_QUERY_COLUMNS = ("query_etal", "query_new_rate", "query_cite_density", "query_section_cites", "query_section_intro",
                  "query_section_related", "query_section_results", "query_section_closing")
# Per-entry columns whose best value in each pool says how strong that pool's evidence is.
_POOL_MAX_COLUMNS = ("bm25_near", "bm25", "enc_sim", "enc_near", "author_near", "acronym_near", "key_near",
                     "year_near", "bm25_after")
_CITED_ONLY_COLUMNS = ("cited_near", "cited_recency", "cited_in_paragraph", "cited_in_subsection", "cited_in_section",
                       "hist_words", "hist_lex", "cocite")
_UNCITED_ONLY_COLUMNS = ("bib_next_x_order", "bib_near_x_order", "bib_local")
_GATE_NAMES = ("query_max_hist_words", "query_share_cited", "query_log_cited", "query_enc_gap", "query_near_gap",
               "query_bm25_gap", "query_max_hist_lex")

POOL_FEATURE_NAMES: tuple[str, ...] = (
    "score_top_cited", "score_top_new", "score_gap_pools", "score_lead_cited", "score_lead_new",
    "mass_logodds_cited", "top_is_cited", "log_pool_cited", "log_pool_new",
    *_QUERY_COLUMNS,
    *(f"max_cited:{c}" for c in _POOL_MAX_COLUMNS),
    *(f"max_new:{c}" for c in _POOL_MAX_COLUMNS),
    *(f"max_cited:{c}" for c in _CITED_ONLY_COLUMNS),
    *(f"max_new:{c}" for c in _UNCITED_ONLY_COLUMNS),
    *_GATE_NAMES,
)
_CLIP = 12.0


def _top_two(values: np.ndarray) -> tuple[float, float]:
    if values.size == 0:
        return 0.0, 0.0
    if values.size == 1:
        return float(values[0]), float(values[0])
    two = np.partition(values, values.size - 2)[-2:]
    return float(two[1]), float(two[0])


def mass_logodds(scores: np.ndarray, cited: np.ndarray) -> float:
    """log(P(cited pool) / P(new pool)) under the softmax of ``scores`` (clipped; both pools non-empty)."""
    s = scores - scores.max()
    p = np.exp(s)
    mc, mu = float(p[cited].sum()), float(p[~cited].sum())
    return float(np.clip(np.log(mc + 1e-30) - np.log(mu + 1e-30), -_CLIP, _CLIP))


def pool_features(features: np.ndarray, scores: np.ndarray) -> np.ndarray | None:
    """The gate's inputs for one list (``POOL_FEATURE_NAMES``), or None when one pool is empty (nothing to decide)."""
    cited = features[:, _CITED] > 0
    if not cited.any() or cited.all():
        return None
    tc, sc = _top_two(scores[cited])
    tu, su = _top_two(scores[~cited])
    row = [tc, tu, tc - tu, tc - sc, tu - su, mass_logodds(scores, cited), float(tc > tu),
           float(np.log(cited.sum())), float(np.log((~cited).sum()))]
    row += [float(features[0, _COL[c]]) for c in _QUERY_COLUMNS]
    row += [float(features[cited, _COL[c]].max()) for c in _POOL_MAX_COLUMNS]
    row += [float(features[~cited, _COL[c]].max()) for c in _POOL_MAX_COLUMNS]
    row += [float(features[cited, _COL[c]].max()) for c in _CITED_ONLY_COLUMNS]
    row += [float(features[~cited, _COL[c]].max()) for c in _UNCITED_ONLY_COLUMNS]
    row += [float(v) for v in query_gates(features)]
    return np.array(row, np.float64)


@dataclass
class PoolGate:
    """Logistic regression over standardised ``POOL_FEATURE_NAMES`` with the ranker's cited-pool log-odds as
    offset: ``correction`` is what it adds to them; ``strength`` scales how far the pools are moved."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    strength: float = 1.0

    def correction(self, pf: np.ndarray) -> np.ndarray:
        return ((pf - self.mean) / self.scale) @ self.weights + self.bias

    def shift(self, features: np.ndarray, scores: np.ndarray) -> float:
        """What to add to every already-cited entry's score (0 when one pool is empty)."""
        pf = pool_features(features, scores)
        if pf is None or self.strength == 0.0:
            return 0.0
        return float(self.strength * np.clip(self.correction(pf), -_CLIP, _CLIP))

    def to_json(self) -> dict[str, object]:
        r = lambda a: [round(float(v), 6) for v in a]  # noqa: E731
        return {"inputs": list(POOL_FEATURE_NAMES), "mean": r(self.mean), "scale": r(self.scale),
                "weights": r(self.weights), "bias": round(float(self.bias), 6), "strength": round(self.strength, 4)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PoolGate":
        where = {name: i for i, name in enumerate(data["inputs"])}
        take = lambda values, default: np.array(  # noqa: E731  (an input the file lacks weighs 0)
            [values[where[n]] if n in where else default for n in POOL_FEATURE_NAMES], np.float64)
        return cls(take(data["mean"], 0.0), take(data["scale"], 1.0), take(data["weights"], 0.0),
                   float(data["bias"]), float(data.get("strength", 1.0)))


@dataclass
class GatedRanker:
    """A ranker whose cited-before pool is moved as a block by a ``PoolGate`` (the order inside a pool is the base
    ranker's)."""

    base: Ranker
    gate: PoolGate
    meta: dict[str, object] = field(default_factory=dict)

    def score(self, features: np.ndarray) -> np.ndarray:
        scores = self.base.score(features)
        shift = self.gate.shift(features, scores)
        if shift == 0.0:
            return scores
        return (scores + shift * (features[:, _CITED] > 0)).astype(np.float32)

    def contributions(self, features: np.ndarray, gates: np.ndarray | None = None) -> np.ndarray:
        """The base ranker's: the gate moves a whole pool alike, so it does not say why one entry beats its
        neighbours in the pool (and explaining one row does not have the whole list the gate needs)."""
        return self.base.contributions(features, gates)

    def to_json(self) -> dict[str, object]:
        return {"kind": "pool-gated", "base": self.base.to_json(), "gate": self.gate.to_json(),  # type: ignore[attr-defined]
                "meta": self.meta}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json()) + "\n", encoding="utf-8")


def gated_from_json(data: dict[str, Any], load_base: Callable[[dict[str, Any]], Ranker]) -> GatedRanker:
    return GatedRanker(load_base(data["base"]), PoolGate.from_json(data["gate"]), dict(data.get("meta", {})))


def gate_table(
    groups: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """From (features, gold, base scores) per case: the gate inputs, labels (gold cited before), the ranker's
    cited-pool log-odds, and which cases have both pools (the others are not the gate's decision)."""
    rows, labels, offsets, used = [], [], [], []
    for i, (feats, gold, scores) in enumerate(groups):
        pf = pool_features(feats, scores)
        if pf is None or not gold.any():
            continue
        cited = feats[:, _CITED] > 0
        rows.append(pf)
        labels.append(float(gold[cited].any()))
        offsets.append(mass_logodds(scores, cited))
        used.append(i)
    return np.array(rows), np.array(labels), np.array(offsets), np.array(used, np.int64)


def fit_pool_gate(x: np.ndarray, y: np.ndarray, offset: np.ndarray, l2: float = 1e-2) -> PoolGate:
    """L2-regularised logistic regression with an offset, by L-BFGS on standardised inputs (deterministic)."""
    from scipy.optimize import minimize

    mean, scale = x.mean(0), x.std(0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    d = z.shape[1]

    def objective(wb: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = wb[:d], wb[d]
        t = offset + z @ w + b
        p = 1.0 / (1.0 + np.exp(-t))
        loss = float(np.mean(np.logaddexp(0.0, t) - y * t)) + l2 * float(w @ w)
        g = (p - y) / len(y)
        return loss, np.concatenate([z.T @ g + 2 * l2 * w, [g.sum()]])

    res = minimize(objective, np.zeros(d + 1), jac=True, method="L-BFGS-B", options={"maxiter": 1000})
    return PoolGate(mean, scale, res.x[:d], float(res.x[d]))


def fit_strength(
    groups: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], corrections: np.ndarray, used: np.ndarray,
    grid: Sequence[float] = tuple(np.round(np.arange(0.0, 1.51, 0.1), 2)),
) -> tuple[float, dict[float, float]]:
    """The strength with the best hit@1 on ``groups`` (ties: the weaker one), given the gate's held-out
    corrections for the cases ``used``; also every strength's hit@1."""
    results: dict[float, float] = {}
    for a in grid:
        hits = 0
        for c, i in zip(corrections, used):
            feats, gold, scores = groups[i]
            cited = feats[:, _CITED] > 0
            shift = a * np.clip(c, -_CLIP, _CLIP)
            hits += bool(gold[int(np.argmax(scores + shift * cited))])
        results[float(a)] = hits / max(len(used), 1)
    best = max(results, key=lambda a: (results[a], -a))
    return best, results
