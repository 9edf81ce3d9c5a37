"""Ranking a paper's own .bib of thousands of entries through the library's candidate stage.

Why: many authors keep one big personal .bib (a Better BibTeX auto-export, a decade's ``refs.bib``) and name it in
``\\bibliography``. ``Engine.rank`` computed every feature of every entry for every request: against a 36.7k-entry
.bib that took p50 257 / p95 490 ms on this idle 2-core machine, 0.4-1.5 s when it was busy
(``bench/big_bib.py``), past the hotkey's 400 ms. The library already solves this (``library/candidates.py``): the
few hundred rows the text around the cursor points at (by meaning, by words, by a name near the cursor, what the
document cites and its topic neighbours) are found over the whole index in milliseconds, and only they get the full
features and the ranker.

What differs from the library: a paper's .bib keeps its order features (``bib_next``, ``bib_near``, ``bib_local``,
``uncited_x_progress``: the next entry after the one cited last, the share of the .bib already cited). They depend
on where an entry stands in the *whole* file, so they are computed over every entry (numpy over the history, a few
milliseconds) and copied into the candidates' rows. The list-relative columns (``enc_z``, ``enc_top``, ``bm25_z``)
are taken over the candidates, as the library does (``pool.LIST_STATS_OVER_CANDIDATES``, measured better there).

Its entry vectors are kept like the library's (``entry_vectors``): by text, so an edited .bib embeds only its new
entries.

Only the candidates are listed (a few hundred rows: a suggestion, the LM stage and the library merge need no more);
a completion menu that filters by the letters typed matches the rest from the index itself. ``include`` names keys
that must be scored whatever the stage finds (``startref check`` scores the key a cite command names).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from startref.citations.bibindex import BibIndex
from startref.citations.derived_cache import DerivedCache
from startref.citations.encoder import SentenceEncoder
from startref.citations.engine_types import RankedEntry, softmax
from startref.citations.features import FEATURE_NAMES, IndexFeatures, Query, compute_features
from startref.citations.library.candidates import Lexicon, build_lexicon, candidate_features, candidate_rows
from startref.citations.library.pool import LIST_STATS_OVER_CANDIDATES
from startref.citations.ranker import Ranker, query_gates

__all__ = ["CANDIDATE_STAGE_FROM", "candidate_stage_from", "CandidateScores", "score_candidates", "rank_big_bib",
           "entry_vectors"]

#: Entries from which a paper's .bib is ranked through the candidate stage; ``$STARTREF_CANDIDATE_STAGE_FROM``
#: overrides it (0: never). Below a few thousand entries scoring every row costs less than 100 ms.
CANDIDATE_STAGE_FROM = 3000
ORDER_FEATURES: tuple[str, ...] = ("uncited_x_progress", "bib_next", "bib_near", "bib_next_x_order",
                                   "bib_near_x_order", "bib_local")
_ORDER_COLS = np.array([FEATURE_NAMES.index(n) for n in ORDER_FEATURES])

_LEXICONS: DerivedCache[IndexFeatures, Lexicon] = DerivedCache(keep=2)
_FROZEN: DerivedCache[IndexFeatures, bool] = DerivedCache(keep=2)


def candidate_stage_from() -> int:
    raw = os.environ.get("STARTREF_CANDIDATE_STAGE_FROM", "").strip()
    return int(raw) if raw.isdigit() else CANDIDATE_STAGE_FROM


def _lexicon(fx: IndexFeatures) -> Lexicon:
    """The name maps of ``fx`` (built once per index data, ~0.1 s at 30k entries; the last two kept)."""
    return _LEXICONS.get(fx, build_lexicon)


@dataclass(frozen=True)
class CandidateScores:
    """The candidate rows (index positions) and their feature rows."""

    rows: np.ndarray
    feats: np.ndarray


def score_candidates(query: Query, fx: IndexFeatures, encoder: SentenceEncoder, keep: np.ndarray,
                     include: Collection[str] = ()) -> CandidateScores:
    """The features of the rows worth ranking for ``query`` (``keep``: rows that may be proposed; ``include``:
    keys scored whatever the stage finds)."""
    rows, stage = candidate_rows(query, fx, encoder, _lexicon(fx), keep)
    extra = [fx.key_pos[k] for k in include if k in fx.key_pos and keep[fx.key_pos[k]]]
    if extra:
        rows = np.union1d(rows, np.array(extra, np.int64)).astype(np.int64)
    feats = candidate_features(query, fx, encoder, rows, stage, not LIST_STATS_OVER_CANDIDATES)
    if rows.size:
        whole = compute_features(query, fx, encoder, only=ORDER_FEATURES)
        feats[:, _ORDER_COLS] = whole[rows][:, _ORDER_COLS]
    return CandidateScores(rows, feats)


def _freeze_once(fx: IndexFeatures) -> None:
    """Move the objects alive now (a big .bib's entries and ranking data among them) out of the garbage
    collector's view, once per big index. Why: with a 36.7k-entry .bib in memory one full collection took 238 ms,
    and whichever request it fell into paid it (the LSP benchmark's server CPU p95 740-790 ms, 630 ms frozen).
    Frozen objects are still freed by reference counting when the index is dropped; only cycles among them would
    stay, and entries hold none."""
    _FROZEN.get(fx, _collect_and_freeze)


def _collect_and_freeze(_fx: IndexFeatures) -> bool:
    import gc

    gc.collect()
    gc.freeze()
    return True


def rank_big_bib(query: Query, index: BibIndex, fx: IndexFeatures, encoder: SentenceEncoder, ranker: Ranker,
                 keep: np.ndarray, include: Collection[str] = ()) -> list[RankedEntry]:
    """``Engine.rank`` of a big .bib: the candidates only, best first (probabilities over them). Why not every
    entry after them: building 36k result rows alone took half of a request's time; a menu that filters by the
    letters typed matches the index itself for the rows not listed (``lsp/completion.py``)."""
    _freeze_once(fx)
    scored = score_candidates(query, fx, encoder, keep, include)
    feats = scored.feats
    if not len(feats):
        return []
    logits = ranker.score(feats)
    gates = query_gates(feats)
    order = np.argsort(-logits, kind="stable")
    probs = softmax(logits[order])
    return [RankedEntry(index.entries[int(scored.rows[j])], float(logits[j]), float(p), feats[j], gates)
            for j, p in zip(order, probs)]


def entry_vectors(texts: Sequence[str], encoder: SentenceEncoder) -> np.ndarray:
    """The entry vectors of a big .bib, through a vector store by text hash in ``bib-vectors/`` of the encoder's
    cache folder (``library.indexing.VectorStore``: at most 100,000 vectors, 150 MB). Why not ``encode_corpus``'s
    file per bibliography: that one is keyed by the whole list, so adding one entry to a 36k-entry .bib re-embedded
    every entry its per-text memory (32 MB) had dropped - a minute or more; here the next request embeds the new
    entry only, and a restart none. fp32 (the vectors the ranker was trained on), by the bulk encoder on every
    core."""
    from startref.citations.library.indexing import VectorStore, embed_texts

    root = getattr(encoder, "_cache_dir", None)
    ident = f"{encoder.path}|{getattr(encoder, 'adapter_digest', '')}|fp32|paper-bib"
    # its own folder: ``encode_corpus`` prunes ``embeddings/`` to 256 MB by file, which would drop the store whole
    store = VectorStore(Path(root) / "bib-vectors", ident) if root is not None else None
    return embed_texts(encoder, texts, store=store, variant="fp32")
