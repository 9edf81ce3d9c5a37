"""Ranking the paper's .bib and the library together ("the ranker knows which pool an entry is in").

How, without retraining the shipped ranker (the library pool model, ``pool_model``, then re-scores these rows
and places them among the paper's; what follows is what it starts from and what ranks without it):
- the paper's entries are scored exactly as without a library (same features, same numbers), so adding a
  library never changes their order among themselves;
- library entries are scored by the same ranker on their own features, computed over the library (the library's
  BM25 statistics and embedding ranks), with the history mapped through ``LibraryView`` (a cite of a key the paper's
  .bib lacks but the library has counts for that library entry);
- the .bib-order features (``bib_next``, ``bib_near``…, ``bib_local``, ``uncited_x_progress``) are zero for library
  entries: they describe the order of the paper's .bib, where a library entry does not stand (the first entry of a
  Zotero database would otherwise look like "the next entry of the .bib");
- a library entry's score is shifted by ``LIBRARY_OFFSET`` (a logit), the pool prior: a citation is more likely
  an entry the author already put in the paper's .bib than one of thousands in the library. The value was fitted
  on the training papers (``bench/library.py --fit-offset``), never on the dev papers;
- library entries describing a work the paper's .bib already has (DOI, arXiv id, normalised title) are left out:
  the paper's entry stands for them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from startref.citations.bibindex import BibIndex, Entry
from startref.citations.encoder import SentenceEncoder
from startref.citations.features import FEATURE_NAMES, Query, compute_features
from startref.citations.library.candidates import CandidateLimits, candidate_features, candidate_rows
from startref.citations.library.keys import generate_key, unique_key
from startref.citations.library.store import Library
from startref.citations.ranker import LinearRanker, MlpRanker, Ranker, query_gates
from startref.citations.tree_ensemble import EnsembleRanker, TreeRanker

__all__ = ["LIBRARY_OFFSET", "LIBRARY_SCALE", "BIB_ORDER_FEATURES", "LibraryView", "LibraryScores", "score_library",
           "library_candidates", "cite_key_for"]

#: Logit added to every library entry's score, fitted with ``bench/library.py --fit-offset --fit-unseen
#: --candidate-stats --every-bib --library-max-entries 0 --train-papers 0 --train-cases 6`` on the 57 training
#: papers the shipped ranker was not trained on (330 cases, a 29,928-entry library; never on the dev papers): the
#: largest offset that keeps citations whose entry is in the .bib within 3 points of the .bib alone (41.5% hit@1
#: against 44.2%). Fitted on the ranker's own training papers it would say more (the ranker is over-confident on
#: papers it was trained on: 52.1% hit@1 there with the .bib alone).
LIBRARY_OFFSET = -0.5
#: Factor on a library entry's ranker logit before the offset (1.0: the ranker's own scale; 0.75 was worse on train).
LIBRARY_SCALE = 1.0
#: Whether ``enc_z``, ``enc_top`` and ``bm25_z`` of library rows are relative to the candidates (a list of a few
#: hundred, like the bibliographies the ranker was trained on) rather than to the whole library. Chosen on the same
#: training papers: library-only hit@1 29.7% against 27.6% (hit@5 56.4% against 53.0%), the in-.bib trade-off alike.
LIST_STATS_OVER_CANDIDATES = True
#: Features that describe the paper's .bib order; zero for entries that are not in it.
BIB_ORDER_FEATURES: tuple[str, ...] = ("bib_next", "bib_near", "bib_next_x_order", "bib_near_x_order", "bib_local",
                                       "uncited_x_progress")
_ZERO_COLS = np.array([FEATURE_NAMES.index(n) for n in BIB_ORDER_FEATURES])


@dataclass(frozen=True)
class _PaperKey:
    """A cite of an entry of the paper's .bib, as the library's query sees it: it counts in the document's citing
    rhythm (query-level features stay those of the paper's list) but names no library entry."""

    key: str


@dataclass(frozen=True)
class LibraryView:
    """The library as ``build_query`` sees it: a key the paper's .bib resolves belongs to the paper (a
    ``_PaperKey`` no library row matches); any other key is looked up in the library (a cite of a library entry
    not yet in the .bib makes it "cited before")."""

    paper: BibIndex
    library: BibIndex

    def get(self, key: str) -> Entry | _PaperKey | None:
        own = self.paper.get(key)
        if own is not None:
            return _PaperKey("\x00paper:" + own.key)
        return self.library.get(key)


@dataclass(frozen=True)
class LibraryScores:
    """Library rows that may be proposed, best first: positions in the library, logits (offset included),
    their feature rows, the library list's query gates, and the candidate list's size."""

    positions: np.ndarray
    logits: np.ndarray
    features: np.ndarray
    gates: np.ndarray
    #: how many rows the candidate stage ranked (``positions`` holds the best ``top`` of them)
    n_candidates: int = 0


_MASKS: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_MASKS_LOCK = threading.Lock()


def _candidate_mask(library: Library, paper: BibIndex) -> np.ndarray:
    """True for library entries the paper's .bib does not already hold (as another key or the same key)."""
    cache_key = (library.content_key, paper.fingerprint)
    with _MASKS_LOCK:
        hit = _MASKS.get(cache_key)
    if hit is not None:
        return hit
    mask = np.ones(len(library.index), dtype=bool)
    for e in paper.entries:
        pos = library.works.find(e)
        if pos is not None:
            mask[pos] = False
    with _MASKS_LOCK:
        _MASKS[cache_key] = mask
        while len(_MASKS) > 64:
            _MASKS.popitem(last=False)
    return mask


def score_library(query: Query, library: Library, paper: BibIndex, encoder: SentenceEncoder, ranker: Ranker,
                  top: int, offset: float = LIBRARY_OFFSET, zero_bib_order: bool = True,
                  exclude: np.ndarray | None = None, limits: CandidateLimits = CandidateLimits(),
                  exhaustive: bool = False, library_stats: bool = not LIST_STATS_OVER_CANDIDATES,
                  scale: float = LIBRARY_SCALE,
                  paper_gates: np.ndarray | None = None) -> LibraryScores:
    """The ``top`` best library entries for ``query`` (built over ``LibraryView(paper, library.index)``);
    ``exclude`` marks library rows never to propose (the benchmark hides a paper's own entries with it).

    Only the rows of the candidate stage (``candidates.candidate_rows``: a few hundred, whatever the library's
    size) get the full features and the ranker; ``exhaustive`` scores every row instead (the benchmark's
    reference for what the candidate stage misses)."""
    fx = library.features(encoder)
    keep = _candidate_mask(library, paper).copy()
    if exclude is not None:
        keep &= ~exclude
    if query.exclude:
        for key in query.exclude:
            pos = fx.key_pos.get(key)
            if pos is not None:
                keep[pos] = False
    if exhaustive:
        rows = np.nonzero(keep)[0]
        feats = compute_features(query, fx, encoder)[rows]
    else:
        rows, stage = candidate_rows(query, fx, encoder, library.lexicon(encoder), keep, limits)
        feats = candidate_features(query, fx, encoder, rows, stage, library_stats)
    if zero_bib_order:
        feats[:, _ZERO_COLS] = 0.0
    if rows.size == 0:
        no_gates = np.zeros_like(query_gates(np.zeros((1, len(FEATURE_NAMES)), np.float32)))
        return LibraryScores(np.zeros(0, np.int64), np.zeros(0, np.float32), feats, no_gates)
    logits = np.float32(scale) * ranker_logits(ranker, feats, paper_gates).astype(np.float32) + np.float32(offset)
    gates = query_gates(feats)
    n = min(top, rows.size)
    part = np.argpartition(-logits, n - 1)[:n] if n < rows.size else np.arange(rows.size)
    order = part[np.argsort(-logits[part], kind="stable")]
    return LibraryScores(rows[order], logits[order], feats[order], gates, int(rows.size))


def ranker_logits(ranker: Ranker, feats: np.ndarray, gates: np.ndarray | None = None) -> np.ndarray:
    """The ranker's logits of ``feats`` with the query gates ``gates`` (None: those of ``feats`` itself).

    Why: the gates describe the document at the cursor (how much of the list is cited, whether the best cited or
    uncited entry matches better); for library rows, those of the paper's own list say it, where the library
    list's own gates would say "nothing cited yet" (the paper's keys are not library rows). A ranker kind this
    does not know is scored with the rows' own gates."""
    if gates is not None and isinstance(ranker, (MlpRanker, LinearRanker, EnsembleRanker, TreeRanker)):
        return np.asarray(ranker.score(feats, gates), np.float32)
    return ranker.score(feats)


def cite_key_for(entry: Entry, paper: BibIndex) -> str:
    """The key a library entry gets in the paper: its own when the paper's .bib does not use it (in any case),
    else a fresh ``author2016word`` that is free there."""
    if entry.key and paper.get(entry.key) is None:
        return entry.key
    return unique_key(generate_key(entry), lambda k: paper.get(k) is not None)


def library_candidates(scores: LibraryScores, library: Library, paper: BibIndex) -> list[tuple[Entry, str, int]]:
    """(entry under its key for the paper, source label, row) for each scored library row, best first."""
    out: list[tuple[Entry, str, int]] = []
    for row, pos in enumerate(scores.positions):
        e = library.index.entries[int(pos)]
        key = cite_key_for(e, paper)
        out.append((replace(e, key=key) if key != e.key else e, library.origin[int(pos)], row))
    return out


def merge_logits(paper_logits: Sequence[float], library_logits: Sequence[float]) -> np.ndarray:
    """Softmax over both lists together (the probabilities shown as scores)."""
    x = np.concatenate([np.asarray(paper_logits, np.float64), np.asarray(library_logits, np.float64)])
    if x.size == 0:
        return x
    z = np.exp(x - x.max())
    return z / z.sum()
