"""Possible mis-citations: for every cited key, how well does its entry fit the spot, and does another fit far better?

The protocol is ``startref eval``'s (``evaluation.mine_cases``): for each cite command, the cursor goes where the
command stood, the text before keeps its earlier citations (the history), the command itself and every later
cite command are removed, and the shipped ranker scores every entry of the bibliography. A key is then judged
against the best *other* entry: the other keys of the same command are left out of the comparison (``\\cite{a,b}``
is not a contest between a and b), and so are entries that are the same work as the key (``identity``).

The verdict is the logit margin ``m = score(best other) - score(cited)``: the other entry is ``e^m`` times as
likely as the cited one under the ranker's softmax. A key is flagged when ``m`` reaches the sensitivity's
threshold (``THRESHOLDS``), chosen by measurement on injected swaps in ``shared/train`` papers
(``bench/check.py --tune``; README "startref check").

Speed: a 300-citation paper makes ~900 encoder inputs. They are embedded first, in batches of similar length spread
over ``workers`` threads (torch releases the GIL, so two threads use two cores), and the ranking that follows
finds them in the encoder's cache.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from startref.citations.bibindex import BibIndex
from startref.citations.evaluation import mine_cases
from startref.citations.explain import explain
from startref.citations.features import encoder_texts
from startref.latex.cites import CiteCommand

if TYPE_CHECKING:
    from startref.citations.engine import Engine

__all__ = ["KeyScore", "THRESHOLDS", "SENSITIVITIES", "score_citations", "is_flagged", "prefetch_embeddings"]

SENSITIVITIES: tuple[str, ...] = ("low", "default", "high")

#: Logit margin (best other entry minus the cited one) from which a key is flagged, per sensitivity. Chosen on
#: injected swaps in 30 shared/train papers (bench/check.py --tune): "default" is the lowest margin that keeps
#: genuine citations flagged at <= 3 per 100; "low" at <= 1 per 100; "high" at <= 8 per 100.
THRESHOLDS: Mapping[str, float] = {"low": 5.0, "default": 3.5, "high": 2.0}

_BATCH = 32


@dataclass(frozen=True)
class KeyScore:
    """How one cited key fared at its cite command.

    ``cite``: index of the command in the document's cite list; ``key_index``: which of its keys. ``prob`` and
    ``rank``: the entry's probability and rank among the compared entries (the bibliography minus the command's
    other keys and the key's same-work twins); ``alt`` the best other entry, ``alt_prob`` its probability;
    ``margin`` = logit(alt) - logit(entry). ``recited``: the entry was cited earlier in the document.
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


def is_flagged(score: KeyScore, sensitivity: str = "default") -> bool:
    """Whether ``score`` is a possible mis-citation at ``sensitivity`` (a KeyError names an unknown level)."""
    if sensitivity not in THRESHOLDS:
        raise KeyError(f"unknown sensitivity {sensitivity!r} (expected one of {', '.join(SENSITIVITIES)})")
    return score.alt is not None and score.margin >= THRESHOLDS[sensitivity]


def prefetch_embeddings(
    engine: "Engine", texts: Sequence[str], workers: int = 1, progress: Callable[[int, int], None] | None = None
) -> None:
    """Embed ``texts`` into the encoder's cache in batches of similar length, ``workers`` batches at a time."""
    unique = sorted(set(texts), key=len)
    batches = [unique[i : i + _BATCH] for i in range(0, len(unique), _BATCH)]
    encoder = engine.encoder
    if workers <= 1 or len(batches) <= 1:
        for n, batch in enumerate(batches, 1):
            encoder.encode(batch)
            if progress:
                progress(n, len(batches))
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="startref-check") as pool:
        for n, _ in enumerate(pool.map(encoder.encode, batches), 1):
            if progress:
                progress(n, len(batches))


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
    alternative fits, why the cited one does not) when the margin is at least this (default: the lowest threshold);
    ``progress(phase, done, total)`` with phases ``"embedding"`` and ``"ranking"``.
    """
    twins = twins or {}
    explain_from = min(THRESHOLDS.values()) if explain_from is None else explain_from
    cases = list(mine_cases(text, index, cites))
    texts = [t for case in cases for t in encoder_texts(case.query).values()]
    prefetch_embeddings(engine, texts, workers, (lambda d, t: progress("embedding", d, t)) if progress else None)
    out: list[KeyScore] = []
    ranker = engine.ranker
    for n, case in enumerate(cases, 1):
        ranked = engine.rank(case.query, index)
        cite = cites[case.ordinal]
        cited_before = {k for prior in case.query.history for k in prior.keys}
        keys = [r.entry.key for r in ranked]
        logits = np.array([r.logit for r in ranked], dtype=np.float64)
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
            ))
        if progress:
            progress("ranking", n, len(cases))
    return out
