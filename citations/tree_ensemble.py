"""Gradient-boosted trees as a ranker, evaluated with numpy, and the z-mean ensemble that ships them.

Why numpy: LightGBM fits the trees (``startref train`` with the ``train`` extra), but scoring a bibliography is a
few hundred rows through a few hundred small trees, which numpy does in a few milliseconds by walking every tree
for every row at once, one level per step. So the run-time install does not grow by a compiled library and its
OpenMP runtime, and the model file is plain JSON like the networks'.

Why an ensemble: trees and the listwise networks make different mistakes (trees cut features into steps; the
networks are smooth), and their scores live on different scales, so each member's scores are standardised within
the list before a weighted sum (the "z-mean"), over the network's best candidates only (``EnsembleRanker``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from startref.citations.features import FEATURE_NAMES
from startref.citations.ranker import LinearRanker, MlpRanker, Ranker, query_gates

__all__ = ["TREE_INPUT_NAMES", "tree_inputs", "TreeRanker", "EnsembleRanker", "trees_from_lightgbm"]

_GATE_NAMES = ("query_max_hist_words", "query_share_cited", "query_log_cited", "query_enc_gap", "query_near_gap",
               "query_bm25_gap", "query_max_hist_lex")
TREE_INPUT_NAMES: tuple[str, ...] = (*FEATURE_NAMES, *_GATE_NAMES)


def tree_inputs(features: np.ndarray, gates: np.ndarray | None = None) -> np.ndarray:
    """Raw features plus the list's query-level gates on every row (trees find the interactions themselves);
    ``gates``: the whole list's, when ``features`` holds only some of its rows."""
    if gates is None:
        gates = query_gates(features) if features.shape[0] else np.zeros(len(_GATE_NAMES), np.float32)
    return np.hstack([features, np.repeat(gates[None, :], features.shape[0], axis=0)]).astype(np.float32)


@dataclass
class TreeRanker:
    """Trees flattened into (trees x nodes) arrays: a node splits on ``feature`` at ``threshold`` (``<=`` goes
    left; a missing value goes where ``default_left`` says) or is a leaf (feature -1) holding ``value``."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    default_left: np.ndarray
    value: np.ndarray
    depth: int
    meta: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # One flat node table (tree t's node j at t * width + j): every step of the walk is then a 1-D gather.
        trees, width = self.feature.shape
        offset = (np.arange(trees) * width)[:, None]
        self._feature = self.feature.ravel()
        self._threshold = self.threshold.ravel()
        self._left = (self.left + offset).ravel()
        self._right = (self.right + offset).ravel()
        self._default_left = self.default_left.ravel()
        self._value = self.value.ravel()
        self._roots = offset.ravel()

    def score(self, features: np.ndarray, gates: np.ndarray | None = None) -> np.ndarray:
        return self.predict(tree_inputs(features, gates))

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """The trees' sum for each row of ``inputs`` (columns in the order the trees were fitted on: ``score``
        builds ``tree_inputs``; the library's pool model its own inputs)."""
        x = np.asarray(inputs, np.float64)
        n = x.shape[0]
        if n == 0:
            return np.zeros(0, np.float32)
        columns = x.T.ravel()  # input i of row r at i * n + r
        rows = np.arange(n)[:, None]
        missing = bool(np.isnan(columns).any())
        node = np.repeat(self._roots[None, :], n, axis=0)
        for _ in range(self.depth):
            f = self._feature[node]
            split = f >= 0
            if not split.any():
                break
            v = columns[np.maximum(f, 0) * n + rows]
            go_left = v <= self._threshold[node]
            if missing:
                go_left = np.where(np.isnan(v), self._default_left[node], go_left)
            node = np.where(split, np.where(go_left, self._left[node], self._right[node]), node)
        return self._value[node].sum(axis=1).astype(np.float32)

    def contributions(self, features: np.ndarray, gates: np.ndarray | None = None) -> np.ndarray:
        """Trees give no per-feature account here (an ensemble explains through its network members)."""
        return np.zeros((features.shape[0], len(FEATURE_NAMES)), np.float32)

    def to_json(self) -> dict[str, object]:
        return {"kind": "trees", "inputs": list(TREE_INPUT_NAMES), "depth": self.depth,
                "feature": self.feature.tolist(), "threshold": self.threshold.tolist(), "left": self.left.tolist(),
                "right": self.right.tolist(), "default_left": self.default_left.astype(int).tolist(),
                "value": self.value.tolist(), "meta": self.meta}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json()) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: dict[str, Any], inputs: Sequence[str] = TREE_INPUT_NAMES) -> "TreeRanker":
        """``inputs``: the columns this version computes (``TREE_INPUT_NAMES`` for a ranker's trees)."""
        names = list(data["inputs"])
        inputs = list(inputs)
        # Map the file's input numbers onto ours; an input this version lacks cannot be split on.
        remap = np.array([inputs.index(n) if n in inputs else -2 for n in names] + [-1])
        feature = np.array(data["feature"], np.int64)
        mapped = remap[np.where(feature >= 0, feature, len(names))]
        if (mapped == -2).any():
            raise ValueError(f"the trees split on inputs this version does not compute: "
                             f"{sorted({names[i] for i in feature[mapped == -2]})}")
        return cls(mapped, np.array(data["threshold"], np.float64), np.array(data["left"], np.int64),
                   np.array(data["right"], np.int64), np.array(data["default_left"], bool),
                   np.array(data["value"], np.float64), int(data["depth"]), dict(data.get("meta", {})))


def trees_from_lightgbm(booster: Any, meta: dict[str, object] | None = None) -> TreeRanker:
    """Flatten a LightGBM booster trained on ``tree_inputs`` (numerical ``<=`` splits only)."""
    dump = booster.dump_model()
    flat: list[list[tuple[int, float, int, int, bool, float]]] = []
    depth = 0

    def walk(node: dict[str, Any], nodes: list, level: int) -> int:  # type: ignore[type-arg]
        nonlocal depth
        depth = max(depth, level)
        i = len(nodes)
        if "leaf_value" in node or "split_feature" not in node:
            nodes.append((-1, 0.0, i, i, True, float(node.get("leaf_value", 0.0))))
            return i
        if node.get("decision_type", "<=") != "<=":
            raise ValueError(f"unsupported split {node.get('decision_type')!r} (numerical features only)")
        nodes.append(None)
        left = walk(node["left_child"], nodes, level + 1)
        right = walk(node["right_child"], nodes, level + 1)
        default_left = bool(node.get("default_left", True))
        if node.get("missing_type") == "Zero":
            raise ValueError("zero-as-missing splits are not supported")
        nodes[i] = (int(node["split_feature"]), float(node["threshold"]), left, right, default_left, 0.0)
        return i

    for info in dump["tree_info"]:
        nodes: list = []  # type: ignore[type-arg]
        walk(info["tree_structure"], nodes, 0)
        flat.append(nodes)
    width = max(len(n) for n in flat)
    pad = lambda nodes: nodes + [(-1, 0.0, 0, 0, True, 0.0)] * (width - len(nodes))  # noqa: E731
    cols = list(zip(*(list(zip(*pad(n))) for n in flat)))
    return TreeRanker(np.array(cols[0], np.int64), np.array(cols[1], np.float64), np.array(cols[2], np.int64),
                      np.array(cols[3], np.int64), np.array(cols[4], bool), np.array(cols[5], np.float64), depth,
                      dict(meta or {}))


def _rows_score(member: Ranker, features: np.ndarray, rows: np.ndarray, gates: np.ndarray) -> np.ndarray:
    """A member's scores of some rows of a list, with the list's gates (only trees and networks take them)."""
    if isinstance(member, (TreeRanker, MlpRanker, LinearRanker)):
        return member.score(features[rows], gates)
    return member.score(features)[rows]


def _z(s: np.ndarray) -> np.ndarray:
    s = s.astype(np.float64)
    return (s - s.mean()) / (s.std() + 1e-9)


@dataclass
class EnsembleRanker:
    """The first member ranks the whole list; the others re-rank its ``top_k`` best.

    Score of one of those: ``mean + sd * sum(weight * z(member)) / sum(weight)`` over all members (the base
    included), where ``z`` standardises a member's scores over the ``top_k`` rows and ``mean``, ``sd`` are those of
    the base's scores there. So the order is that of the weighted z-mean, and the scores stay on the base's logit
    scale (the z-mean of correlated members spreads a little less than one member): probabilities, margins and
    thresholds read from them keep roughly their meaning. Why only the top: the trees cost a few microseconds per row and
    tree, fine for a paper's bibliography, not for a 30,000-entry library; the suggestions shown come from the top.
    """

    members: Sequence[Ranker]
    weights: Sequence[float]
    top_k: int = 100
    meta: dict[str, object] = field(default_factory=dict)

    def score(self, features: np.ndarray, gates: np.ndarray | None = None) -> np.ndarray:
        """``gates``: the query gates to use instead of those of ``features`` (a library list scored with the
        gates of the paper's own list); by default the whole list's, as the members learned them."""
        if features.shape[0] == 0:
            return np.zeros(0, np.float32)
        if gates is None:
            gates = query_gates(features)
        base = np.asarray(_rows_score(self.members[0], features, np.arange(features.shape[0]), gates), np.float64)
        if base.size < 2 or len(self.members) < 2:
            return base.astype(np.float32)
        top = np.argsort(-base, kind="stable")[: self.top_k]
        mean, sd = float(base[top].mean()), float(base[top].std())
        mix = self.weights[0] * _z(base[top])
        mix = mix + sum(w * _z(_rows_score(m, features, top, gates)) for m, w in zip(self.members[1:], self.weights[1:]))
        out = base.copy()
        out[top] = mean + sd * mix / float(sum(self.weights))
        return out.astype(np.float32)

    def contributions(self, features: np.ndarray, gates: np.ndarray | None = None) -> np.ndarray:
        """The base ranker's account (trees give none per feature; the re-ranking of the top is not itemised)."""
        return self.members[0].contributions(features, gates)

    def to_json(self) -> dict[str, object]:
        return {"kind": "ensemble", "members": [m.to_json() for m in self.members],  # type: ignore[attr-defined]
                "weights": [float(w) for w in self.weights], "top_k": self.top_k, "meta": self.meta}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json()) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: dict[str, Any], load_member: Callable[[dict[str, Any]], Ranker]) -> "EnsembleRanker":
        members = [load_member(m) for m in data["members"]]
        weights = [float(w) for w in data["weights"]]
        if len(weights) != len(members) or not members:
            raise ValueError(f"{len(members)} members and {len(weights)} weights")
        return cls(members, weights, int(data.get("top_k", 100)), dict(data.get("meta", {})))
