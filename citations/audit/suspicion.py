"""How suspicious a cited key is: a small logistic model over what the ranking and the document say about it.

Why a model and not a margin threshold: the ranker's margin (``m = score(best other) - score(cited)``) means
different things in different places. On a paper the ranker knows poorly every citation has a large margin, so
it is read against the document's own margins (robust z: median and interquartile range over its cited keys); a
key that ranks low in a long list is more telling than one in a short list (rank share); an entry cited before
normally ranks high, so a large margin there is more telling (recited); and a *near key* (``nearkeys``: same first
author or a similar key) that beats the cited one is a prior on the confusion (near above).

What the whole document says counts too (``DOCUMENT_FACTS``, ``cocitation``): the ranker scores a cite with
``eval``'s masking and cannot see the document's later citations. An entry cited in other commands but never in a
sentence like this one is suspicious, one cited elsewhere in a near-identical sentence is not (cited elsewhere,
context match); a genuine key of a long ``\\cite{a,b,c}`` often ranks below an entry that fits the sentence's main
claim (keys in the command); an entry the document cites many times is cited for several things (uses); and a best
other entry cited nowhere in the document is what a slip of the key leaves behind (alt unused).

The weights are a logistic regression of "this key was injected" on these inputs over the injected swaps of all 130
``shared/train`` papers (never the dev papers; ``bench/check.py --tune``). Each sensitivity's threshold is the
lowest that kept genuine citations flagged at <= 1 (low), 3 (default) and 8 (high) per 100 on the 57 training papers
the ranker's networks were not trained on, with each paper's suspicions from a model fitted without it (5-fold by
paper), in 90% of the resamples of those papers: on papers it was trained on the ranker's margins are smaller, and
one paper on which the ranker is poor moves the rate by a point, so thresholds chosen for a pooled 3 per 100 flagged
more on new papers (the dev papers: 4.8 per 100 in the previous round, chosen on all training papers; 4.7 with these
inputs, chosen on the 57).

Measured in cross-validation on the training papers (docs/check.md), against the five ranking inputs alone: the
context match and cited-elsewhere inputs added +1.1 random / +1.8 near swaps found at 3 false flags per 100; with
keys in the command, uses and alt unused +3.2 / +7.3; the context match of the best other entry or of the near key,
or the document's own ranking quality (median rank share, share ranked first), added nothing on top. In earlier
rounds (30-69 papers): how far the near key beats the cited one, whether it was cited among the five commands
before, the two probabilities, a missing title, or a stricter near key (same first author, or the keys' letters alike
too) added nothing either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "FEATURES", "DOCUMENT_FACTS", "SENSITIVITIES", "SUSPICION_WEIGHTS", "SUSPICION_BIAS", "THRESHOLDS", "MIN_SPREAD",
    "suspicion_inputs", "suspicions",
]

SENSITIVITIES: tuple[str, ...] = ("low", "default", "high")

#: The inputs of the model, in ``suspicion_inputs``' column order.
FEATURES: tuple[str, ...] = ("margin", "z", "rank_share", "recited", "near_above", "cited_elsewhere", "context_match",
                              "log_keys_in_command", "log_uses", "alt_unused")
#: What the whole document says of each key (``KeyScore``'s fields of those names), with the value a key takes when
#: its fact is not given: cited in another command; the best context similarity there (``cocitation``); how many
#: keys its command lists; how many commands cite the entry; whether the best other entry is cited anywhere.
DOCUMENT_FACTS: Mapping[str, float] = {"elsewhere": 0.0, "context_match": 0.0, "keys_in_command": 1.0, "uses": 1.0,
                                       "alt_cited": 1.0}
#: Log-odds model over ``suspicion_inputs`` (bench/check.py --tune: logistic regression on the injected swaps of all
#: 130 shared/train papers, scored by the shipped ranker).
SUSPICION_WEIGHTS: Mapping[str, float] = {
    "margin": 0.1887, "z": 1.1618, "rank_share": 1.7532, "recited": -0.2162, "near_above": 0.7451,
    "cited_elsewhere": 1.6323, "context_match": -1.701, "log_keys_in_command": -0.4499, "log_uses": -0.4635,
    "alt_unused": 0.3368,
}
SUSPICION_BIAS = -5.4141
#: Suspicion (log-odds) from which a key is flagged: the lowest whose false flags stayed at <= 1 (low), 3 (default)
#: and 8 (high) per 100 genuine citations in 90% of the resamples of the 57 shared/train papers the ranker's
#: networks were not trained on, with suspicions cross-validated by paper (bench/check.py --tune).
THRESHOLDS: Mapping[str, float] = {"low": 0.15, "default": -0.85, "high": -2.0}
#: The z of a margin divides by the document's interquartile range, at least this (a short paper's few margins).
MIN_SPREAD = 0.5


def suspicion_inputs(margins: Sequence[float], ranks: Sequence[int], entries: Sequence[int],
                     recited: Sequence[bool], near_margins: Sequence[float] | None = None,
                     facts: Mapping[str, Sequence[float]] | None = None) -> np.ndarray:
    """The model's inputs for one document's keys (columns: ``FEATURES``); keys without an alternative (a one-entry
    bibliography) have margin ``-inf`` and are left out of the document's statistics. ``near_margins``: each key's
    margin to its best near key (``-inf``: none), read as whether a near key beats it (``near_above``: the prior
    that a near confusion is likelier than any other; how far it beats it added nothing in cross-validation on
    shared/train). ``facts``: what the whole document says of each key, by the names of ``DOCUMENT_FACTS`` (one
    left out takes its default: a key cited once, alone in its command, not cited elsewhere, best other entry
    cited)."""
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
    given = dict(facts or {})
    unknown = set(given) - set(DOCUMENT_FACTS)
    if unknown:
        raise KeyError(f"unknown document facts {sorted(unknown)} (expected some of {', '.join(DOCUMENT_FACTS)})")
    fact = {name: np.full(m.shape, default, dtype=np.float64) if name not in given
            else np.asarray(given[name], dtype=np.float64) for name, default in DOCUMENT_FACTS.items()}
    return np.column_stack([
        safe, (safe - median) / spread, share, np.asarray(recited, np.float64), near_above,
        fact["elsewhere"], fact["context_match"], np.log(np.maximum(fact["keys_in_command"], 1.0)),
        np.log(np.maximum(fact["uses"], 1.0)), 1.0 - fact["alt_cited"],
    ])


def suspicions(margins: Sequence[float], ranks: Sequence[int], entries: Sequence[int],
               recited: Sequence[bool], near_margins: Sequence[float] | None = None,
               facts: Mapping[str, Sequence[float]] | None = None) -> np.ndarray:
    """Log-odds that each key of one document is wrong (``SUSPICION_WEIGHTS``); ``-inf`` without an alternative."""
    x = suspicion_inputs(margins, ranks, entries, recited, near_margins, facts)
    w = np.array([SUSPICION_WEIGHTS[name] for name in FEATURES])
    out = x @ w + SUSPICION_BIAS
    return np.where(np.isfinite(np.asarray(margins, np.float64)), out, -np.inf)
