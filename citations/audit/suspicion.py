"""How suspicious a cited key is: a small logistic model over what the ranking and the document say about it.

Why a model and not a margin threshold: the ranker's margin (``m = score(best other) - score(cited)``) means
different things in different places. On a paper the ranker knows poorly every citation has a large margin, so
it is read against the document's own margins (robust z: median and interquartile range over its cited keys); a
key that ranks low in a long list is more telling than one in a short list (rank share); an entry cited before
normally ranks high, so a large margin there is more telling (recited); and a *near key* (``nearkeys``: same first
author or a similar key) that beats the cited one is a prior on the confusion (near above).

The weights are a logistic regression of "this key was injected" on these inputs over the injected swaps of 30
``shared/train`` papers (never the dev papers; ``bench/check.py --tune``), and each sensitivity's threshold is the
lowest that kept genuine citations of those papers flagged at <= 1 (low), 3 (default) and 8 (high) per 100.

Tried and not shipped (docs/check.md): a sixth input, the number of keys in the command (``KeyScore``'s
``keys_in_command``; in ``\\cite{a,b,c}`` a genuine key often ranks below an entry that fits the sentence's main
claim), fitted on 69 training papers. In cross-validation there it raised near swaps found from 38.0% to 39.0% and
random ones from 65.8% to 67.7% at 3.0 false flags per 100, but on the dev papers its training-chosen default
flagged 4.8 genuine citations per 100 (58.1% random, 25.8% near) against 3.6 for this model (52.3%, 25.8%), and
its high sensitivity failed the injected-swap test's precision bar. How often the key is cited elsewhere, whether
it was cited among the five commands before, the two probabilities, a missing title, or a stricter near key (same
first author, or the keys' letters alike too) added nothing (or lost near swaps) in cross-validation on 30 training
papers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "FEATURES", "SENSITIVITIES", "SUSPICION_WEIGHTS", "SUSPICION_BIAS", "THRESHOLDS", "MIN_SPREAD",
    "suspicion_inputs", "suspicions",
]

SENSITIVITIES: tuple[str, ...] = ("low", "default", "high")

#: The inputs of the model, in ``suspicion_inputs``' column order.
FEATURES: tuple[str, ...] = ("margin", "z", "rank_share", "recited", "near_above")
#: Log-odds model over ``suspicion_inputs`` (bench/check.py --tune, logistic regression on 30 shared/train papers,
#: scored by the shipped ranker: refitted when the ranker became networks + trees).
SUSPICION_WEIGHTS: Mapping[str, float] = {"margin": 0.1151, "z": 1.2658, "rank_share": 1.9854, "recited": 0.4717,
                                          "near_above": 0.8557}
SUSPICION_BIAS = -5.1962
#: Suspicion (log-odds) from which a key is flagged: the lowest that kept genuine citations of the shared/train
#: papers flagged at <= 1 (low), 3 (default) and 8 (high) per 100 (bench/check.py --tune).
THRESHOLDS: Mapping[str, float] = {"low": -0.3, "default": -1.15, "high": -2.1}
#: The z of a margin divides by the document's interquartile range, at least this (a short paper's few margins).
MIN_SPREAD = 0.5


def suspicion_inputs(margins: Sequence[float], ranks: Sequence[int], entries: Sequence[int],
                     recited: Sequence[bool], near_margins: Sequence[float] | None = None) -> np.ndarray:
    """The model's inputs for one document's keys (columns: ``FEATURES``); keys without an alternative (a one-entry
    bibliography) have margin ``-inf`` and are left out of the document's statistics. ``near_margins``: each key's
    margin to its best near key (``-inf``: none), read as whether a near key beats it (``near_above``: the prior
    that a near confusion is likelier than any other; how far it beats it added nothing in cross-validation on
    shared/train)."""
    m = np.asarray(margins, dtype=np.float64)
    finite = m[np.isfinite(m)]
    if finite.size:
        median = float(np.median(finite))
        spread = max(float(np.percentile(finite, 75) - np.percentile(finite, 25)), MIN_SPREAD)
    else:
        median, spread = 0.0, 1.0
    safe = np.where(np.isfinite(m), m, -50.0)
    share = np.asarray(ranks, np.float64) / np.maximum(np.asarray(entries, np.float64), 1.0)
    near = np.full(m.shape, -np.inf) if near_margins is None else np.asarray(near_margins, dtype=np.float64)
    near_above = (near > 0).astype(np.float64)
    return np.column_stack([safe, (safe - median) / spread, share, np.asarray(recited, np.float64), near_above])


def suspicions(margins: Sequence[float], ranks: Sequence[int], entries: Sequence[int],
               recited: Sequence[bool], near_margins: Sequence[float] | None = None) -> np.ndarray:
    """Log-odds that each key of one document is wrong (``SUSPICION_WEIGHTS``); ``-inf`` without an alternative."""
    x = suspicion_inputs(margins, ranks, entries, recited, near_margins)
    w = np.array([SUSPICION_WEIGHTS[name] for name in FEATURES])
    out = x @ w + SUSPICION_BIAS
    return np.where(np.isfinite(np.asarray(margins, np.float64)), out, -np.inf)
