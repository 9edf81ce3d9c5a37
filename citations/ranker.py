"""The learned ranker: a linear scoring function over ``features.FEATURE_NAMES``, trained listwise.

Why linear and listwise: each cursor has exactly one list of candidates (the bibliography) and one (or a few) right
answers, so the natural model is a softmax over the list — a conditional logit. It trains in seconds with L-BFGS,
ships as a few KB of JSON and can be read by a person (the model card prints it).

Why the expansion: a re-citation and a first citation are different decisions (for a re-cited entry, the words
around its earlier citations matter; for a new one, the .bib order and the title do). So every feature gets a
second weight that applies only to already-cited entries, and four query-level "gates" (how strongly the text here
resembles some earlier citation's text, how much of the bibliography is already cited) let the model shift mass
between the two kinds. Measured on the dev set this adds about 2 points of hit@1 over the plain linear model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from startref.citations.errors import ModelError, ModelNotFoundError
from startref.citations.features import FEATURE_NAMES

__all__ = ["LinearRanker", "fit_listwise", "default_ranker_path", "load_ranker", "expand", "EXPANDED_NAMES"]

_ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
_CITED = FEATURE_NAMES.index("cited")
_HIST_SIM = FEATURE_NAMES.index("hist_sim")
_HIST_WORDS = FEATURE_NAMES.index("hist_words")
_GATES = ("query_max_hist_sim", "query_max_hist_words", "query_share_cited", "query_log_cited")
EXPANDED_NAMES: tuple[str, ...] = (
    *FEATURE_NAMES,
    *(f"cited*{name}" for name in FEATURE_NAMES if name != "cited"),
    *(f"cited*{gate}" for gate in _GATES),
)


def expand(features: np.ndarray) -> np.ndarray:
    """Base features, the same features again for already-cited entries only, and the cited x gate columns."""
    n = features.shape[0]
    if n == 0:
        return np.zeros((0, len(EXPANDED_NAMES)), np.float32)
    cited = features[:, _CITED : _CITED + 1]
    others = np.delete(features, _CITED, axis=1)
    gates = np.array(
        [features[:, _HIST_SIM].max(), features[:, _HIST_WORDS].max(), cited.mean(), np.log1p(cited.sum())],
        dtype=np.float32,
    )
    return np.hstack([features, others * cited, cited * gates[None, :]]).astype(np.float32)


def base_name(name: str) -> str:
    """The FEATURE_NAMES entry an expanded weight belongs to (gates belong to "cited")."""
    if name.startswith("cited*"):
        rest = name[len("cited*") :]
        return rest if rest in FEATURE_NAMES else "cited"
    return name


@dataclass
class LinearRanker:
    """score = expand(X) @ weights, over named expanded features (names missing from a saved file weigh 0)."""

    feature_names: tuple[str, ...]
    weights: np.ndarray
    meta: dict[str, object] = field(default_factory=dict)

    def score(self, features: np.ndarray) -> np.ndarray:
        return expand(features) @ self.weights

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """Per base feature, how much it moved each entry's score (expanded weights folded back)."""
        parts = expand(features) * self.weights
        out = np.zeros((features.shape[0], len(FEATURE_NAMES)), np.float32)
        for j, name in enumerate(self.feature_names):
            out[:, FEATURE_NAMES.index(base_name(name))] += parts[:, j]
        return out

    def to_json(self) -> dict[str, object]:
        return {
            "kind": "linear-listwise",
            "features": {name: round(float(w), 6) for name, w in zip(self.feature_names, self.weights) if w != 0.0},
            "meta": self.meta,
        }

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "LinearRanker":
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            weights = data["features"]
        except FileNotFoundError as exc:
            raise ModelNotFoundError(f"{path}: no ranker here (run `startref train CORPUS -o DIR`)") from exc
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{path}: not a startref ranker file: {exc}") from exc
        w = np.array([float(weights.get(name, 0.0)) for name in EXPANDED_NAMES], np.float32)
        return cls(EXPANDED_NAMES, w, dict(data.get("meta", {})))


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


def default_ranker_path() -> Path:
    return _ARTIFACTS / "ranker.json"


def load_ranker(model_dir: str | Path | None = None) -> LinearRanker:
    """The ranker in ``model_dir`` (from ``startref train``), else the shipped one."""
    path = Path(model_dir) / "ranker.json" if model_dir else default_ranker_path()
    return LinearRanker.load(path)
