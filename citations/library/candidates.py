"""Candidate generation over the library: the few hundred rows worth the full ranker, found without it.

Why: the ranker's features cost per row (token-set matches in Python, the history features, the network), so
scoring every row of a 36k-entry library took 1-2 s a request. The rows that can win are the ones the text around
the cursor points at, and those are cheap to find over the whole library:
- by meaning: the best rows by cosine with the context, the sentence and the last words (one matrix product over
  the cached, normalised embeddings);
- by words: the best BM25 rows for the context, the sentence and the last words (postings, not rows);
- by a name near the cursor: an author, a word of a key, a title's acronym ("Smith et al.~\\cite", "BERT~\\cite"):
  inverted maps built once per library (``Lexicon``);
- what the document already cites from the library, and the topic neighbours of the entries cited just before.
Only those rows get the full features and the ranker, so a request's cost no longer grows with the library except
for the matrix product and the postings (milliseconds at 30k entries).

The columns that depend on the whole list (``enc_z``, ``enc_top``, ``bm25_z``) can be computed over the whole
library (``library_stats``), so a candidate gets the very numbers it had when every row was scored (the .bib-order columns aside, which
``pool`` sets to zero for library rows anyway); what differs is the ranker's query gate
"share of the list already cited" (over the candidates, not the library), which is zero unless the document cites
library-only keys. The engine computes them over the candidates instead (``pool.LIST_STATS_OVER_CANDIDATES``: a
list of a few hundred, like the bibliographies the ranker was trained on, measured better on the training papers).
A row outside the candidates is never proposed: ``bench/library.py --exhaustive`` measures what that costs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from startref.citations.bm25 import BM25
from startref.citations.encoder import SentenceEncoder
from startref.citations.features import FEATURE_NAMES, IndexFeatures, Query, compute_features, encoder_texts
from startref.citations.text import fold, tokenize

__all__ = ["CandidateLimits", "Lexicon", "build_lexicon", "candidate_rows", "candidate_features"]

_WORD = re.compile(r"[^\W\d_]{3,}")
_COL = {name: i for i, name in enumerate(FEATURE_NAMES)}


@dataclass(frozen=True)
class CandidateLimits:
    """How many rows each signal contributes (the union is usually 300-600 rows)."""

    enc_context: int = 200
    enc_other: int = 60  # sentence, last words
    bm25_context: int = 120
    bm25_other: int = 50  # sentence, last words
    per_name: int = 60  # rows one author / key word / acronym near the cursor may bring (best by meaning first)
    neighbours: int = 30  # topic neighbours of the entries cited just before


@dataclass(frozen=True)
class Lexicon:
    """Inverted maps from a folded name to the library rows that carry it."""

    authors: dict[str, np.ndarray]
    key_words: dict[str, np.ndarray]
    acronyms: dict[str, np.ndarray]


def _invert(sets: Iterable[Iterable[str]]) -> dict[str, np.ndarray]:
    rows: dict[str, list[int]] = {}
    for i, words in enumerate(sets):
        for w in words:
            if w:
                rows.setdefault(w, []).append(i)
    return {w: np.array(r, np.int64) for w, r in rows.items()}


def build_lexicon(fx: IndexFeatures) -> Lexicon:
    """The maps of ``fx`` (the same token sets the ``author_near``/``key_near``/``acronym_near`` features use)."""
    return Lexicon(_invert(fx.author_tokens), _invert(fx.key_tokens), _invert([a] for a in fx.acronyms))


class _RowsBM25:
    """The library's BM25 seen through ``rows``: whole-library scores computed once per query text (the candidate
    stage and the features ask for the same texts), then cut to the rows."""

    def __init__(self, full: BM25, rows: np.ndarray, memo: dict[Any, np.ndarray]) -> None:
        self.full, self.rows, self._memo = full, rows, memo
        self.n_docs = int(rows.size)

    def full_scores(self, query: str | list[str] | tuple[str, ...]) -> np.ndarray:
        key = query if isinstance(query, str) else tuple(query)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = self.full.scores(query)
        return hit

    def scores(self, query: str | list[str] | tuple[str, ...], weights: dict[str, float] | None = None) -> np.ndarray:
        if weights:
            return self.full.scores(query, weights)[self.rows]
        return self.full_scores(query)[self.rows]


def _top(scores: np.ndarray, allowed: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` best allowed rows (unordered)."""
    masked = np.where(allowed, scores, -np.inf)
    k = min(k, int(allowed.sum()))
    if k <= 0:
        return np.zeros(0, np.int64)
    part = np.argpartition(-masked, k - 1)[:k]
    return part[np.isfinite(masked[part])]


def _near_names(query: Query) -> set[str]:
    """Folded words right around the cursor (where "Smith et al.~\\cite" or "BERT~\\cite" name an entry)."""
    return {fold(w) for w in _WORD.findall(f"{query.before[-90:]} {query.after[:45]}")}


@dataclass
class _Stage:
    """What the candidate stage computed over the whole library, reused for the candidates' features."""

    enc: np.ndarray
    bm25_memo: dict[Any, np.ndarray]


def candidate_rows(query: Query, fx: IndexFeatures, encoder: SentenceEncoder, lexicon: Lexicon,
                   allowed: np.ndarray, limits: CandidateLimits = CandidateLimits()) -> tuple[np.ndarray, _Stage]:
    """The library rows worth ranking for ``query`` (sorted positions, all ``allowed``) and the whole-library
    numbers computed on the way."""
    texts = encoder_texts(query)
    vectors = encoder.encode([texts["context"], texts["sentence"], texts["near"]])  # cached for the features
    sims = np.asarray(fx.emb @ vectors.T, np.float32)  # rows x 3
    enc = sims[:, 0]
    memo: dict[Any, np.ndarray] = {}
    bm25 = _RowsBM25(fx.bm25, np.zeros(0, np.int64), memo)
    near_words = tokenize(query.before[-90:])[-8:]
    picks = [
        _top(enc, allowed, limits.enc_context),
        _top(sims[:, 1], allowed, limits.enc_other),
        _top(sims[:, 2], allowed, limits.enc_other),
        _top(bm25.full_scores(query.context_text), allowed, limits.bm25_context),
        _top(bm25.full_scores(texts["sentence"]), allowed, limits.bm25_other),
    ]
    if near_words:
        picks.append(_top(bm25.full_scores(near_words), allowed, limits.bm25_other))
    for name in _near_names(query):
        for table in (lexicon.authors, lexicon.key_words, lexicon.acronyms):
            rows = table.get(name)
            if rows is not None:
                rows = rows[allowed[rows]]
                if rows.size > limits.per_name:
                    rows = rows[np.argpartition(-enc[rows], limits.per_name - 1)[: limits.per_name]]
                picks.append(rows)
    cited = [fx.key_pos[k] for cite in query.history for k in cite.keys if k in fx.key_pos]
    if cited:
        cited_rows = np.unique(np.array(cited, np.int64))
        picks.append(cited_rows[allowed[cited_rows]])
        recent = sorted({fx.key_pos[k] for cite in query.history[-3:] for k in cite.keys if k in fx.key_pos})
        if recent:
            neighbour = np.asarray(fx.emb @ np.asarray(fx.emb[recent]).T, np.float32).max(axis=1)
            picks.append(_top(neighbour, allowed, limits.neighbours))
    rows = np.unique(np.concatenate(picks)) if picks else np.zeros(0, np.int64)
    return rows.astype(np.int64), _Stage(enc, memo)


def _subset(fx: IndexFeatures, rows: np.ndarray, memo: dict[Any, np.ndarray]) -> IndexFeatures:
    """``fx`` cut to ``rows`` (every per-entry list and array; keys renumbered), BM25 through ``_RowsBM25``."""
    idx = rows.tolist()
    n = len(fx.keys)
    values: dict[str, Any] = {}
    for f in fields(fx):
        value = getattr(fx, f.name)
        if f.name == "bm25":
            value = _RowsBM25(fx.bm25, rows, memo)
        elif f.name == "key_pos":
            value = {fx.keys[i]: j for j, i in enumerate(idx)}
        elif isinstance(value, np.ndarray) and value.shape[:1] == (n,):
            value = np.asarray(value[rows])
        elif isinstance(value, list) and len(value) == n:
            value = [value[i] for i in idx]
        values[f.name] = value
    return IndexFeatures(**values)


def _zscore(x: np.ndarray) -> np.ndarray:
    sd = float(x.std()) if x.size else 0.0
    return (x - float(x.mean())) / sd if sd > 1e-9 else np.zeros_like(x)


def candidate_features(query: Query, fx: IndexFeatures, encoder: SentenceEncoder, rows: np.ndarray,
                       stage: _Stage, library_stats: bool = True) -> np.ndarray:
    """The feature rows of ``rows`` for ``query``, equal to those of scoring every library row (see the module
    docstring for the one query gate that differs); ``library_stats`` False leaves the list-relative columns
    (``enc_z``, ``enc_top``, ``bm25_z``) relative to the candidates instead of the whole library."""
    feats = compute_features(query, _subset(fx, rows, stage.bm25_memo), encoder)
    if rows.size == 0 or not library_stats:
        return feats
    enc = stage.enc
    order = np.sort(enc)
    rank = (enc.size - np.searchsorted(order, enc[rows], side="right")).astype(np.float32)
    feats[:, _COL["enc_z"]] = _zscore(enc)[rows]
    feats[:, _COL["enc_top"]] = 1.0 / (1.0 + rank)
    bm = np.log1p(stage.bm25_memo[query.context_text])
    feats[:, _COL["bm25_z"]] = _zscore(bm)[rows]
    return feats
