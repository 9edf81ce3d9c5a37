"""The learned ranker: a scoring function over ``features.FEATURE_NAMES``, trained listwise.

Why listwise: each cursor has exactly one list of candidates (the bibliography) and one (or a few) right answers,
so the natural model is a softmax over the list — a conditional logit.

Why the expansion: a re-citation and a first citation are different decisions (for a re-cited entry, the words
around its earlier citations matter; for a new one, the .bib order and the title do). So every feature gets a
second column that applies only to already-cited entries, and query-level "gates" (how strongly the text here
resembles some earlier citation's text, how much of the bibliography is already cited, whether the best cited or
the best uncited entry matches the words here better) let the model shift mass between the two kinds.

Two models over the same inputs: ``LinearRanker`` (a few KB of weights a person can read; used for the ablation)
and ``MlpRanker``, the shipped default: the same linear part plus one small hidden layer (16 tanh units), which
lets the gates act on every feature instead of only on the cited indicator. Measured on the dev set the hidden
layer adds about 3 points of hit@1 over the linear model with the same inputs (README, MODEL_CARD.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from startref.citations.errors import ModelError, ModelNotFoundError
from startref.citations.features import FEATURE_NAMES

__all__ = [
    "Ranker", "LinearRanker", "MlpRanker", "fit_listwise", "fit_mlp_listwise", "default_ranker_path", "load_ranker",
    "expand", "EXPANDED_NAMES", "MLP_INPUT_NAMES", "ranker_from_json", "RANKER_FILE_KINDS",
]

_ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
_CITED = FEATURE_NAMES.index("cited")
_COL = {name: i for i, name in enumerate(FEATURE_NAMES)}
# Query-level gates and the feature each is computed from (an ablation that leaves the feature out drops its gate).
_GATE_SOURCE = {
    "query_max_hist_words": "hist_words",
    "query_share_cited": "cited",
    "query_log_cited": "cited",
    "query_enc_gap": "enc_sim",
    "query_near_gap": "bm25_near",
    "query_bm25_gap": "bm25",
    "query_max_hist_lex": "hist_lex",
}
_GATES = tuple(_GATE_SOURCE)
EXPANDED_NAMES: tuple[str, ...] = (
    *FEATURE_NAMES,
    *(f"cited*{name}" for name in FEATURE_NAMES if name != "cited"),
    *(f"cited*{gate}" for gate in _GATES),
)
MLP_INPUT_NAMES: tuple[str, ...] = (*EXPANDED_NAMES, *_GATES)


def _pool_max(values: np.ndarray, pool: np.ndarray) -> float:
    return float(values[pool].max()) if pool.any() else 0.0


def query_gates(features: np.ndarray) -> np.ndarray:
    """Query-level numbers (one per ``_GATES`` name): is the best evidence here for an already-cited entry or a
    new one? Gaps are max over cited entries minus max over uncited ones."""
    cited = features[:, _CITED] > 0
    gap = lambda name: _pool_max(features[:, _COL[name]], cited) - _pool_max(features[:, _COL[name]], ~cited)  # noqa: E731
    return np.array(
        [
            _pool_max(features[:, _COL["hist_words"]], cited),
            float(cited.mean()),
            float(np.log1p(cited.sum())),
            gap("enc_sim"),
            gap("bm25_near"),
            gap("bm25"),
            _pool_max(features[:, _COL["hist_lex"]], cited),
        ],
        dtype=np.float32,
    )


def expand(features: np.ndarray, gates: np.ndarray | None = None) -> np.ndarray:
    """Base features, the same features again for already-cited entries only, and the cited x gate columns
    (``gates``: ``query_gates(features)`` when the caller already has them)."""
    n = features.shape[0]
    if n == 0:
        return np.zeros((0, len(EXPANDED_NAMES)), np.float32)
    if gates is None:
        gates = query_gates(features)
    cited = features[:, _CITED : _CITED + 1]
    others = np.delete(features, _CITED, axis=1)
    return np.hstack([features, others * cited, cited * gates[None, :]]).astype(np.float32)


def mlp_inputs(features: np.ndarray, gates: np.ndarray | None = None) -> np.ndarray:
    """``expand`` plus the gates themselves on every row, so hidden units can condition any feature on them."""
    if features.shape[0] == 0:
        return np.zeros((0, len(MLP_INPUT_NAMES)), np.float32)
    if gates is None:
        gates = query_gates(features)
    return np.hstack([expand(features, gates), np.repeat(gates[None, :], features.shape[0], axis=0)]).astype(np.float32)


def base_name(name: str) -> str:
    """The FEATURE_NAMES entry an input belongs to: "cited*bm25" -> "bm25", a gate -> the feature it is made of."""
    name = name.removeprefix("cited*")
    return _GATE_SOURCE.get(name, name)


def _fold(parts: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Sum per-input contributions (rows x inputs) into per-base-feature columns (rows x FEATURE_NAMES)."""
    out = np.zeros((parts.shape[0], len(FEATURE_NAMES)), np.float32)
    for j, name in enumerate(names):
        out[:, _COL[base_name(name)]] += parts[:, j]
    return out


class Ranker(Protocol):
    """What the engine, the explanations and the bench need from a ranker."""

    meta: dict[str, object]

    def score(self, features: np.ndarray) -> np.ndarray: ...

    def contributions(self, features: np.ndarray, gates: np.ndarray | None = None) -> np.ndarray:
        """Per base feature, how much it moved each row's score. ``gates``: the list's ``query_gates`` when
        ``features`` holds only some rows of it (explaining one candidate), since gates are query-level."""
        ...

    def save(self, path: str | Path) -> None: ...


@dataclass
class LinearRanker:
    """score = expand(X) @ weights, over named expanded features (names missing from a saved file weigh 0)."""

    feature_names: tuple[str, ...]
    weights: np.ndarray
    meta: dict[str, object] = field(default_factory=dict)

    def score(self, features: np.ndarray, gates: np.ndarray | None = None) -> np.ndarray:
        """``gates``: the list's ``query_gates`` when ``features`` holds only some rows of it (or another list's,
        as the library scores its rows with the paper's)."""
        return expand(features, gates) @ self.weights

    def contributions(self, features: np.ndarray, gates: np.ndarray | None = None) -> np.ndarray:
        """Per base feature, how much it moved each entry's score (expanded weights folded back)."""
        return _fold(expand(features, gates) * self.weights, self.feature_names)

    def to_json(self) -> dict[str, object]:
        return {
            "kind": "linear-listwise",
            "features": {name: round(float(w), 6) for name, w in zip(self.feature_names, self.weights) if w != 0.0},
            "meta": self.meta,
        }

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "LinearRanker":
        weights = data["features"]
        w = np.array([float(weights.get(name, 0.0)) for name in EXPANDED_NAMES], np.float32)
        return cls(EXPANDED_NAMES, w, dict(data.get("meta", {})))


@dataclass
class MlpRanker:
    """score = z @ linear + tanh(z @ hidden.T + hidden_bias) @ output, z = (mlp_inputs(X) - mean) / scale.

    Saved by input name, so a file from an older feature set still loads (a missing input is held at its mean).
    """

    mean: np.ndarray
    scale: np.ndarray
    linear: np.ndarray
    hidden: np.ndarray
    hidden_bias: np.ndarray
    output: np.ndarray
    meta: dict[str, object] = field(default_factory=dict)

    def _z(self, features: np.ndarray, gates: np.ndarray | None = None) -> np.ndarray:
        return (mlp_inputs(features, gates) - self.mean) / self.scale

    def score(self, features: np.ndarray, gates: np.ndarray | None = None) -> np.ndarray:
        """``gates`` as for ``LinearRanker.score``."""
        z = self._z(features, gates)
        return (z @ self.linear + np.tanh(z @ self.hidden.T + self.hidden_bias) @ self.output).astype(np.float32)

    def contributions(self, features: np.ndarray, gates: np.ndarray | None = None) -> np.ndarray:
        """Per base feature, gradient x (input - training mean): how much it moved each entry's score compared
        with an average candidate (exact for the linear part, a first-order account of the hidden layer)."""
        z = self._z(features, gates)
        slope = 1.0 - np.tanh(z @ self.hidden.T + self.hidden_bias) ** 2  # rows x hidden
        grad = self.linear[None, :] + (slope * self.output[None, :]) @ self.hidden  # rows x inputs
        return _fold(grad * z, MLP_INPUT_NAMES)

    def to_json(self) -> dict[str, object]:
        r = lambda a: [round(float(v), 6) for v in a]  # noqa: E731
        return {
            "kind": "mlp-listwise",
            "inputs": list(MLP_INPUT_NAMES),
            "mean": r(self.mean),
            "scale": r(self.scale),
            "linear": r(self.linear),
            "hidden": [r(row) for row in self.hidden],
            "hidden_bias": r(self.hidden_bias),
            "output": r(self.output),
            "meta": self.meta,
        }

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json()) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "MlpRanker":
        names = list(data["inputs"])
        hidden = np.array(data["hidden"], np.float64)
        if hidden.ndim != 2 or hidden.shape[1] != len(names):
            raise ValueError(f"hidden has shape {hidden.shape}, expected (units, {len(names)})")
        where = {name: i for i, name in enumerate(names)}
        take = lambda values, default: np.array(  # noqa: E731
            [values[where[n]] if n in where else default for n in MLP_INPUT_NAMES], np.float32
        )
        mean, scale, linear = take(data["mean"], 0.0), take(data["scale"], 1.0), take(data["linear"], 0.0)
        cols = np.array([where.get(n, -1) for n in MLP_INPUT_NAMES])
        hidden_full = np.where(cols[None, :] >= 0, hidden[:, np.maximum(cols, 0)], 0.0).astype(np.float32)
        return cls(mean, scale, linear, hidden_full, np.array(data["hidden_bias"], np.float32),
                   np.array(data["output"], np.float32), dict(data.get("meta", {})))


def fit_listwise(
    groups: Sequence[tuple[np.ndarray, np.ndarray]], l2: float = 1e-2, keep: Sequence[str] | None = None
) -> LinearRanker:
    """Fit weights maximising sum over queries of log P(gold | list), P = softmax(expand(X) @ w).

    ``groups`` holds (FEATURE_NAMES features of every candidate, boolean gold mask) per query; queries without a
    gold entry are skipped. ``keep`` restricts the model to some base features (ablations: the others weigh 0).
    Features are standardised for the optimiser and the weights mapped back, so saved weights apply to raw features.
    """
    from scipy.optimize import minimize

    mask = np.array([keep is None or base_name(n) in keep for n in EXPANDED_NAMES])
    if keep is not None and "cited" not in keep:
        mask &= np.array([not n.startswith("cited*") for n in EXPANDED_NAMES])
    groups = [(expand(x)[:, mask].astype(np.float64), g.astype(bool)) for x, g in groups if g.any() and len(g) > 1]
    if not groups:
        raise ModelError("no training queries with a gold entry in their candidate list")
    stacked = np.concatenate([x for x, _ in groups])
    mu, sd = stacked.mean(0), stacked.std(0)
    sd[sd < 1e-9] = 1.0
    groups = [((x - mu) / sd, g) for x, g in groups]
    d = stacked.shape[1]

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        loss, grad = 0.0, np.zeros(d)
        for x, g in groups:
            s = x @ w
            s -= s.max()
            p = np.exp(s)
            z = p.sum()
            p /= z
            pg = p[g]
            loss -= np.log(pg.sum() + 1e-12)
            q = np.zeros_like(p)
            q[g] = pg / (pg.sum() + 1e-12)
            grad += x.T @ (p - q)
        n = len(groups)
        return loss / n + l2 * float(w @ w), grad / n + 2 * l2 * w

    result = minimize(objective, np.zeros(d), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    w = np.zeros(len(EXPANDED_NAMES), np.float32)
    w[mask] = result.x / sd
    return LinearRanker(EXPANDED_NAMES, w, {"train_queries": len(groups), "l2": l2})


def fit_mlp_listwise(
    groups: Sequence[tuple[np.ndarray, np.ndarray]],
    hidden: int = 16,
    steps: int = 200,
    lr: float = 0.01,
    weight_decay: float = 1e-4,
    seed: int = 0,
    members: int = 3,
    progress: Callable[[str], None] | None = None,
) -> MlpRanker:
    """Fit ``MlpRanker`` by full-batch Adam on the same listwise loss as ``fit_listwise`` (deterministic per seed).

    All candidate rows of all queries are stacked once; the per-query softmax is computed with scatter sums, so one
    step is a few matrix products however the list lengths vary. ``members`` networks are fitted from seeds
    ``seed, seed+1, …`` and averaged — which is again one network (hidden units side by side, output and linear
    part divided by ``members``), so the file format and the scoring code do not change. Measured on the dev set:
    single networks vary by about a point of hit@1 between seeds; the average of three is about a point above their
    mean.
    """
    import torch

    groups = [(x, g.astype(bool)) for x, g in groups if g.any() and len(g) > 1]
    if not groups:
        raise ModelError("no training queries with a gold entry in their candidate list")
    x = np.concatenate([mlp_inputs(f) for f, _ in groups]).astype(np.float64)
    gid = np.concatenate([np.full(len(g), i, np.int64) for i, (_, g) in enumerate(groups)])
    gold = np.concatenate([g for _, g in groups]).astype(np.float32)
    mean, scale = x.mean(0), x.std(0)
    scale[scale < 1e-9] = 1.0
    z = torch.from_numpy(((x - mean) / scale).astype(np.float32))
    del x
    ids, y, n_groups = torch.from_numpy(gid), torch.from_numpy(gold), len(groups)
    fitted: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for member in range(members):
        torch.manual_seed(seed + member)
        linear = torch.nn.Linear(z.shape[1], 1, bias=False)
        layer = torch.nn.Linear(z.shape[1], hidden)
        output = torch.nn.Linear(hidden, 1, bias=False)
        opt = torch.optim.Adam([*linear.parameters(), *layer.parameters(), *output.parameters()], lr=lr,
                               weight_decay=weight_decay)
        for step in range(steps):
            opt.zero_grad()
            s = (linear(z) + output(torch.tanh(layer(z)))).squeeze(-1)
            top = torch.zeros(n_groups).scatter_reduce(0, ids, s.detach(), "amax", include_self=False)
            e = torch.exp(s - top[ids])
            total = torch.zeros(n_groups).index_add(0, ids, e)
            right = torch.zeros(n_groups).index_add(0, ids, e * y)
            loss = -(torch.log(right + 1e-12) - torch.log(total)).mean()
            loss.backward()
            opt.step()
            if progress and (step % 50 == 0 or step == steps - 1):
                progress(f"network {member + 1}/{members}, step {step}: listwise loss {loss.detach().item():.4f}")
        with torch.no_grad():
            fitted.append((linear.weight[0].numpy().copy(), layer.weight.numpy().copy(), layer.bias.numpy().copy(),
                           output.weight[0].numpy().copy()))
    return MlpRanker(
        mean.astype(np.float32),
        scale.astype(np.float32),
        np.mean([f[0] for f in fitted], axis=0).astype(np.float32),
        np.concatenate([f[1] for f in fitted]).astype(np.float32),
        np.concatenate([f[2] for f in fitted]).astype(np.float32),
        (np.concatenate([f[3] for f in fitted]) / members).astype(np.float32),
        {"train_queries": n_groups, "hidden": hidden, "members": members, "steps": steps, "lr": lr,
         "weight_decay": weight_decay, "seed": seed},
    )


def default_ranker_path() -> Path:
    return _ARTIFACTS / "ranker.json"


def load_ranker(model_dir: str | Path | None = None) -> Ranker:
    """The ranker in ``model_dir`` (from ``startref train``), else the shipped one; the file says which kind."""
    path = Path(model_dir) / "ranker.json" if model_dir else default_ranker_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelNotFoundError(f"{path}: no ranker here (run `startref train CORPUS -o DIR`)") from exc
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: not a startref ranker file: {exc}") from exc
    try:
        return ranker_from_json(data)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ModelError(f"{path}: not a startref ranker file: {exc}") from exc


RANKER_FILE_KINDS = ("mlp-listwise", "linear-listwise", "pool-gated", "ensemble", "trees")


def ranker_from_json(data: Any) -> Ranker:
    """A ranker from its ``to_json`` form; composite kinds (a pool gate over a ranker, an ensemble of rankers) hold
    their parts in the same form."""
    kind = data.get("kind", "linear-listwise") if isinstance(data, dict) else None
    if kind == "mlp-listwise":
        return MlpRanker.from_json(data)
    if kind == "linear-listwise":
        return LinearRanker.from_json(data)
    if kind == "pool-gated":
        from startref.citations.pool_gate import gated_from_json

        return gated_from_json(data, ranker_from_json)
    if kind == "ensemble":
        from startref.citations.tree_ensemble import EnsembleRanker

        return EnsembleRanker.from_json(data, ranker_from_json)
    if kind == "trees":
        from startref.citations.tree_ensemble import TreeRanker

        return TreeRanker.from_json(data)
    raise ValueError(f"unknown ranker kind {kind!r} (expected one of {', '.join(RANKER_FILE_KINDS)})")
