"""Possible mis-citations: for every cited key, how well does its entry fit the spot, and does another fit far better?

The protocol is ``startref eval``'s (``evaluation.mine_cases``): for each cite command, the cursor goes where the
command stood, the text before keeps its earlier citations (the history), the command itself and every later
cite command are removed, and the shipped ranker scores every entry of the bibliography. A key is then judged
against the best *other* entry: the other keys of the same command are left out of the comparison (``\\cite{a,b}``
is not a contest between a and b), and so are entries that are the same work as the key (``identity``).

The evidence is the logit margin ``m = score(best other) - score(cited)`` (the other entry is ``e^m`` times as
likely as the cited one under the ranker's softmax), read against the document itself: how far ``m`` stands above
the document's typical margin (robust z: median and interquartile range over its cited keys, because on a paper
the ranker knows poorly every citation has a large margin), the cited entry's rank as a share of the list, and
whether the entry was cited before (a re-cited entry normally ranks high, so a large margin is more telling), and
whether a *near key* of the cited entry (``nearkeys``: same first author or a similar key) fits better -- a prior
on the confusion: a wrong key is far more often ``smith2019a`` for ``smith2019b`` than a random entry. A small
logistic model (``suspicion``) turns these five, and what the whole document says of the key (``cocitation``:
whether the entry is cited in other commands and in sentences like this one, how often, how many keys the command
lists, whether the best other entry is cited at all), into log-odds that the key is wrong, compared with the
sensitivity's threshold (``THRESHOLDS``); weights and thresholds were fitted on injected swaps in the
``shared/train`` papers, never on the dev papers (``bench/check.py --tune``; docs/check.md).

Speed: a 300-citation paper makes ~900 encoder inputs. They are embedded first, in small batches of similar length
spread over ``workers`` threads (torch releases the GIL, so two threads use two cores), and the ranking that follows
finds them in the encoder's cache (``prefetch``: why the batches are small, and the memory it keeps down).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from startref.citations.audit.cocitation import CitedElsewhere
from startref.citations.audit.nearkeys import NearKeys
from startref.citations.audit.prefetch import prefetch_embeddings, release_free_memory
from startref.citations.audit.suspicion import (
    DOCUMENT_FACTS,
    FEATURES,
    SENSITIVITIES,
    SUSPICION_BIAS,
    SUSPICION_WEIGHTS,
    THRESHOLDS,
    suspicion_inputs,
    suspicions,
)
from startref.citations.bibindex import BibIndex
from startref.citations.evaluation import mine_cases
from startref.citations.explain import explain
from startref.citations.features import encoder_texts
from startref.latex.cites import CiteCommand

if TYPE_CHECKING:
    from startref.citations.engine import Engine
    from startref.citations.engine_types import RankedEntry

__all__ = [
    "KeyScore", "FEATURES", "THRESHOLDS", "SENSITIVITIES", "SUSPICION_WEIGHTS", "score_citations", "is_flagged",
    "prefetch_embeddings", "suspicions", "suspicion_inputs", "suggested_keys", "NEAR_PREFERENCE", "SUSPICION_BIAS",
]

#: A near key that beats the cited one is suggested first when the best entry overall beats it by at most this
#: much (logits): a near confusion is the likelier error (bench/check.py --tune: fix accuracy on shared/train).
NEAR_PREFERENCE = 5.0

@dataclass(frozen=True)
class KeyScore:
    """How one cited key fared at its cite command.

    ``cite``: index of the command in the document's cite list; ``key_index``: which of its keys. ``prob`` and
    ``rank``: the entry's probability and rank among the compared entries (the bibliography minus the command's
    other keys and the key's same-work twins); ``alt`` the best other entry, ``alt_prob`` its probability;
    ``margin`` = logit(alt) - logit(entry). ``recited``: the entry was cited earlier in the document.
    ``near_alt``: the best-ranked near key of the entry (``nearkeys``: same first author or a similar key) among
    the compared entries, ``near_margin`` = logit(near_alt) - logit(entry) (``-inf`` when it has none).
    ``keys_in_command``: how many keys the command lists (``\\cite{a,b,c}``: 3: a genuine key of a long list often
    ranks below an entry that fits the sentence's main claim).
    ``elsewhere``: the entry is cited in another command of the document (before or after this one);
    ``context_match``: the best word similarity between this command's context and those others' (``cocitation``);
    ``uses``: how many commands of the document cite the entry; ``alt_cited``: the best other entry is cited somewhere
    in the document (an entry that fits far better and is cited nowhere is what a slip of the key leaves behind).
    ``net_margin``, ``net_rank``, ``net_near_margin``: ``margin``, ``rank`` and ``near_margin`` under the networks
    alone when the ranker is an ensemble of networks and trees (``network_logits``; NaN and 0 otherwise).
    """

    cite: int
    key_index: int
    key: str
    entry: str
    prob: float
    rank: int
    alt: str | None
    alt_prob: float
    margin: float
    entries: int
    recited: bool
    why_alt: str = ""
    why_entry: str = ""
    suspicion: float = -math.inf
    near_alt: str | None = None
    near_margin: float = -math.inf
    keys_in_command: int = 1
    elsewhere: bool = False
    context_match: float = 0.0
    uses: int = 1
    alt_cited: bool = True
    net_margin: float = math.nan
    net_rank: int = 0
    net_near_margin: float = math.nan


def suggested_keys(alt: str | None, margin: float, near_alt: str | None, near_margin: float,
                   preference: float | None = None) -> list[str]:
    """The replacements for a flagged key, best first: the best other entry, and a near key that beats the cited
    one too -- first when it is within ``NEAR_PREFERENCE`` of the best (``preference`` overrides, for tuning)."""
    out = [alt] if alt is not None else []
    if near_alt is None or near_alt == alt or not near_margin > 0:
        return out
    limit = NEAR_PREFERENCE if preference is None else preference
    return [near_alt, *out] if margin - near_margin <= limit else [*out, near_alt]


def network_logits(ranker: object, ranked: Sequence["RankedEntry"]) -> np.ndarray | None:
    """The networks' own logits for a ranked list when the ranker is an ensemble of networks and trees (None
    otherwise): recorded for ``bench/check.py``, because the trees were fitted on nearly every training paper and
    the networks on 73 of 130, so only the networks' margins are out of sample on the others."""
    from startref.citations.ranker import LinearRanker, MlpRanker
    from startref.citations.tree_ensemble import EnsembleRanker

    if not isinstance(ranker, EnsembleRanker) or not ranked or not isinstance(ranker.members[0], (MlpRanker, LinearRanker)):
        return None
    features = np.stack([r.features for r in ranked])
    return np.asarray(ranker.members[0].score(features, ranked[0].gates), dtype=np.float64)


def _network_view(nets: np.ndarray, allowed: np.ndarray, mine: int, near: np.ndarray) -> tuple[float, int, float]:
    """(margin, rank, near margin) of the cited entry under the networks' logits ``nets`` (``KeyScore``'s terms)."""
    others = allowed.copy()
    others[mine] = False
    margin = float(nets[others].max() - nets[mine]) if others.any() else -math.inf
    rank = 1 + int(np.count_nonzero(nets[allowed] > nets[mine]))
    near_others = others & near
    near_margin = float(nets[near_others].max() - nets[mine]) if near_others.any() else -math.inf
    return margin, rank, near_margin


def is_flagged(score: KeyScore, sensitivity: str = "default") -> bool:
    """Whether ``score`` is a possible mis-citation at ``sensitivity`` (a KeyError names an unknown level)."""
    if sensitivity not in THRESHOLDS:
        raise KeyError(f"unknown sensitivity {sensitivity!r} (expected one of {', '.join(SENSITIVITIES)})")
    return score.alt is not None and score.suspicion >= THRESHOLDS[sensitivity]


def score_citations(
    engine: "Engine",
    text: str,
    index: BibIndex,
    cites: Sequence[CiteCommand],
    *,
    twins: Mapping[str, frozenset[str]] | None = None,
    workers: int = 1,
    explain_from: float | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[KeyScore]:
    """A ``KeyScore`` for every key of every cite command that is in ``index``.

    ``twins``: key -> keys of the same work (``identity.same_work_map``); ``explain_from``: give reasons (why the
    alternative fits, why the cited one does not) when the margin is at least this (default: 0, every key that
    another entry beats);
    ``progress(phase, done, total)`` with phases ``"embedding"`` and ``"ranking"``.
    """
    twins = twins or {}
    near_keys = NearKeys(index)
    explain_from = 0.0 if explain_from is None else explain_from
    cases = list(mine_cases(text, index, cites))
    views = [encoder_texts(case.query) for case in cases]
    texts = [t for view in views for t in view.values()]
    elsewhere = CitedElsewhere({c.ordinal: v["context"] for c, v in zip(cases, views)}, {c.ordinal: c.gold for c in cases})
    prefetch_embeddings(engine, texts, workers, (lambda d, t: progress("embedding", d, t)) if progress else None)
    out: list[KeyScore] = []
    ranker = engine.ranker
    for n, case in enumerate(cases, 1):
        cite = cites[case.ordinal]
        # a big .bib is ranked through the candidate stage: the keys written here must be scored whatever it finds
        written_entries = [e.key for k in cite.keys if (e := index.get(k)) is not None]
        ranked = engine.rank(case.query, index, include=written_entries)
        cited_before = {k for prior in case.query.history for k in prior.keys}
        keys = [r.entry.key for r in ranked]
        logits = np.array([r.logit for r in ranked], dtype=np.float64)
        nets = network_logits(ranker, ranked)
        position = {k: i for i, k in enumerate(keys)}
        co_keys = set(case.gold)
        seen: set[str] = set()
        for j, written in enumerate(cite.keys):
            entry = index.get(written)
            if entry is None or entry.key in seen or entry.key not in position:
                continue
            seen.add(entry.key)
            skip = (co_keys | twins.get(entry.key, frozenset())) - {entry.key}
            allowed = np.array([k not in skip for k in keys], dtype=bool)
            mine = position[entry.key]
            pool = logits[allowed]
            top = float(pool.max())
            norm = top + math.log(float(np.exp(pool - top).sum()))
            rank = 1 + int(np.count_nonzero(pool > logits[mine]))
            alt_i = next((i for i in range(len(keys)) if allowed[i] and i != mine), None)
            margin = float(logits[alt_i] - logits[mine]) if alt_i is not None else -math.inf
            near = near_keys.of(entry.key)
            near_i = next((i for i in range(len(keys)) if allowed[i] and i != mine and keys[i] in near), None) if near else None
            again, match = elsewhere.of(entry.key, case.ordinal)
            net = (math.nan, 0, math.nan) if nets is None else _network_view(
                nets, allowed, mine, np.array([k in near for k in keys], dtype=bool))
            why_alt = why_entry = ""
            if alt_i is not None and margin >= explain_from:
                alt = ranked[alt_i]
                why_alt = explain(alt.features, alt.gates, ranker, alt.entry, case.query)
                own = ranked[mine]
                why_entry = explain(own.features, own.gates, ranker, own.entry, case.query)
            out.append(KeyScore(
                cite=case.ordinal,
                key_index=j,
                key=written,
                entry=entry.key,
                prob=float(math.exp(logits[mine] - norm)),
                rank=rank,
                alt=keys[alt_i] if alt_i is not None else None,
                alt_prob=float(math.exp(logits[alt_i] - norm)) if alt_i is not None else 0.0,
                margin=margin,
                entries=int(allowed.sum()),
                recited=entry.key in cited_before,
                why_alt=why_alt,
                why_entry=why_entry,
                near_alt=keys[near_i] if near_i is not None else None,
                near_margin=float(logits[near_i] - logits[mine]) if near_i is not None else -math.inf,
                keys_in_command=len(cite.keys),
                elsewhere=again,
                context_match=match,
                uses=elsewhere.uses(entry.key),
                alt_cited=alt_i is None or elsewhere.uses(keys[alt_i]) > 0,
                net_margin=net[0], net_rank=net[1], net_near_margin=net[2],
            ))
        if progress:
            progress("ranking", n, len(cases))
    release_free_memory()  # what the ranking freed goes back too: a language server checks again and again
    sus = suspicions([s.margin for s in out], [s.rank for s in out], [s.entries for s in out],
                     [s.recited for s in out], [s.near_margin for s in out],
                     {name: [getattr(s, name) for s in out] for name in DOCUMENT_FACTS})
    return [replace(s, suspicion=float(v)) for s, v in zip(out, sus)]
