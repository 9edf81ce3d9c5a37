"""Reading the key scores ``bench/check.py`` saves: suspicions, recall and false flags, and fitting the model.

Kept apart from the benchmark's injection and reporting so that a fit can be redone from saved scores
(``--from-scores``) and its parts read on their own: the logistic regression (``fit_weights``), suspicions from a
model fitted without the paper (``cross_validated``), the training papers the ranker has not seen
(``ranker_unseen``) and the thresholds (``tune``).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import TYPE_CHECKING

from startref.citations.audit import miscitation
from startref.citations.audit.miscitation import suggested_keys, suspicion_inputs
from startref.citations.audit.suspicion import DOCUMENT_FACTS

if TYPE_CHECKING:
    import numpy as np

__all__ = ["with_suspicion", "evaluate", "fit_weights", "cross_validated", "ranker_unseen", "false_flag_bound", "tune"]

REPO = Path(__file__).resolve().parents[1]
#: ``--tune`` chooses the thresholds on suspicions cross-validated over this many folds of papers.
CV_FOLDS = 5
#: ... keeping the false flags within budget in this share of the resamples of the papers (``false_flag_bound``).
BOUND_SHARE = 0.9
TRAINING_JSON = REPO / "citations" / "artifacts" / "training.json"


def _near(keys: list[dict]) -> list[float]:
    return [s.get("near_margin", float("-inf")) for s in keys]


def _facts(keys: list[dict]) -> dict[str, list]:
    """What the document says of each key (``suspicion.DOCUMENT_FACTS``); scores saved before those cannot be used."""
    missing = [name for name in DOCUMENT_FACTS if keys and name not in keys[0]]
    if missing:
        raise SystemExit(f"these scores predate the inputs {', '.join(missing)}: rank the papers again")
    return {name: [s[name] for s in keys] for name in DOCUMENT_FACTS}


def _inputs(keys: list[dict]) -> "np.ndarray":
    margins = [s["margin"] if s["has_alt"] else float("-inf") for s in keys]
    return suspicion_inputs(margins, [s["rank"] for s in keys], [s["entries"] for s in keys],
                            [s["recited"] for s in keys], _near(keys), _facts(keys))


def _suspicion(keys: list[dict], weights: "np.ndarray | None" = None, bias: float | None = None) -> list[float]:
    """Each key's suspicion as ``check`` computes it (the shipped weights unless others are given)."""
    if not keys:
        return []
    if weights is None:
        margins = [s["margin"] if s["has_alt"] else float("-inf") for s in keys]
        return list(miscitation.suspicions(margins, [s["rank"] for s in keys], [s["entries"] for s in keys],
                                           [s["recited"] for s in keys], _near(keys), _facts(keys)))
    out = _inputs(keys) @ weights + (bias or 0.0)
    return [float(v) if s["has_alt"] else float("-inf") for v, s in zip(out, keys)]


def _flag(s: dict, threshold: float) -> bool:
    return bool(s["has_alt"]) and s["suspicion"] >= threshold


def with_suspicion(results: list[dict], weights: "np.ndarray | None" = None, bias: float | None = None) -> list[dict]:
    """The results with every key's ``suspicion`` filled in (per paper: the z of a margin is per document)."""
    for paper in results:
        for part in ("injected", "untouched"):
            keys = paper.get(part) or []
            for s, v in zip(keys, _suspicion(keys, weights, bias)):
                s["suspicion"] = v
    return results


def _first_fix(s: dict, preference: float | None = None) -> str | None:
    """The replacement ``check`` offers first for this key (None for records saved before near keys)."""
    if "alt" not in s:
        return None
    keys = suggested_keys(s["alt"], s["margin"], s.get("near_alt"), s.get("near_margin", float("-inf")), preference)
    return keys[0] if keys else None


def evaluate(results: list[dict], threshold: float, preference: float | None = None) -> dict[str, float]:
    """Recall (random, near, all), precision on injected papers, flags per 100 genuine (untouched, else the
    genuine keys of the injected papers), and how often a found swap's first replacement is the original key."""
    found = {"near": [0, 0], "random": [0, 0]}
    flags = true_flags = fixed = 0
    genuine_flags = genuine = 0
    for paper in results:
        swapped = {(s["cite"], s["key_index"]): s for s in paper["swaps"]}
        for s in paper["injected"]:
            swap = swapped.get((s["cite"], s["key_index"]))
            flagged = _flag(s, threshold)
            flags += flagged
            if swap is not None:
                found[swap["kind"]][1] += 1
                found[swap["kind"]][0] += flagged
                true_flags += flagged
                fixed += flagged and _first_fix(s, preference) == swap["original"]
            elif paper["untouched"] is None:
                genuine += 1
                genuine_flags += flagged
        if paper["untouched"] is not None:
            for s in paper["untouched"]:
                genuine += 1
                genuine_flags += _flag(s, threshold)
    total_found = found["near"][0] + found["random"][0]
    total = found["near"][1] + found["random"][1]
    return {
        "threshold": threshold,
        "recall_random": found["random"][0] / max(found["random"][1], 1),
        "recall_near": found["near"][0] / max(found["near"][1], 1),
        "recall": total_found / max(total, 1),
        "swaps_random": found["random"][1],
        "swaps_near": found["near"][1],
        "precision": true_flags / flags if flags else 1.0,
        "fix_right": fixed / true_flags if true_flags else 0.0,
        "flags": flags,
        "genuine_per_100": 100.0 * genuine_flags / max(genuine, 1),
        "genuine": genuine,
    }


def _genuine_counts(paper: dict, threshold: float) -> tuple[int, int]:
    """(genuine keys, of them flagged) of one paper: its untouched keys, else the genuine keys of its injected copy."""
    if paper["untouched"] is not None:
        keys = paper["untouched"]
    else:
        swapped = {(s["cite"], s["key_index"]) for s in paper["swaps"]}
        keys = [s for s in paper["injected"] if (s["cite"], s["key_index"]) not in swapped]
    return len(keys), sum(_flag(s, threshold) for s in keys)


def fit_weights(results: list[dict]) -> tuple["np.ndarray", float]:
    """Logistic regression of "this key was injected" on ``suspicion_inputs`` over the injected papers."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    xs, ys = [], []
    for paper in results:
        swapped = {(s["cite"], s["key_index"]) for s in paper["swaps"]}
        keys = [s for s in paper["injected"] if s["has_alt"]]
        if not keys:
            continue
        xs.append(_inputs(keys))
        ys += [1 if (s["cite"], s["key_index"]) in swapped else 0 for s in keys]
    model = LogisticRegression(max_iter=5000).fit(np.vstack(xs), np.array(ys))
    return model.coef_[0], float(model.intercept_[0])


def cross_validated(results: list[dict], folds: int = CV_FOLDS, seed: int = 15) -> list[dict]:
    """The results with every key's ``suspicion`` from a model fitted without its paper (``folds``-fold by paper):
    what the thresholds are chosen on, since a model's own training keys look better to it than new ones."""
    names = sorted(p["paper"] for p in results)
    random.Random(seed).shuffle(names)
    for k in range(folds):
        held = set(names[k::folds])
        weights, bias = fit_weights([p for p in results if p["paper"] not in held])
        with_suspicion([p for p in results if p["paper"] in held], weights, bias)
    return results


def ranker_unseen(results: list[dict]) -> list[dict]:
    """The papers the shipped ranker's networks were not trained on (``training.json``'s ``papers``).

    Why the thresholds are chosen on these only: on a paper it was trained on the ranker puts the cited entry first
    more often, so genuine citations have smaller margins and fewer are flagged at a given threshold (at the same
    threshold, 2.7 false flags per 100 on those papers against 3.5 on the others, and 3.9 on the dev papers);
    a threshold chosen on all training papers flagged more than its budget on new papers."""
    trained = set(json.loads(TRAINING_JSON.read_text(encoding="utf-8"))["papers"])
    return [p for p in results if p["paper"] not in trained]


def false_flag_bound(results: list[dict], threshold: float, share: float = BOUND_SHARE, draws: int = 500,
                     seed: int = 15) -> float:
    """The false flags per 100 genuine citations that a resample of ``results``' papers (drawn with replacement)
    stays at or under in ``share`` of the draws: the pooled rate plus the paper-to-paper spread, which is large (one
    paper on which the ranker is poor can flag 8 of 100 genuine citations)."""
    import numpy as np

    counts = np.array([_genuine_counts(p, threshold) for p in results], dtype=np.float64).reshape(-1, 2)
    if not len(counts):
        return 0.0
    picks = np.random.default_rng(seed).integers(0, len(counts), size=(draws, len(counts)))
    rates = 100.0 * counts[picks, 1].sum(axis=1) / np.maximum(counts[picks, 0].sum(axis=1), 1.0)
    return float(np.percentile(rates, 100 * share))


def tune(results: list[dict]) -> dict[str, float]:
    """The lowest suspicion on the grid whose false flags stay at <= 1 (low), 3 (default), 8 (high) per 100 genuine
    citations in ``BOUND_SHARE`` of the resamples of the papers (``false_flag_bound``).

    Why a bound and not the pooled rate: the dev papers are 20 papers, and a new user's paper is one; thresholds
    chosen for a pooled 3 per 100 on the training papers flagged 4.7 per 100 on the dev papers (and the previous
    model's 4.8), where one paper alone moved the rate by a point."""
    grid = [x / 20 for x in range(-200, 201)]
    out: dict[str, float] = {}
    for name, budget in (("low", 1.0), ("default", 3.0), ("high", 8.0)):
        out[name] = next((t for t in grid if false_flag_bound(results, t) <= budget), grid[-1])
    return out
