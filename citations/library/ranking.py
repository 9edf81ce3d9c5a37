"""The engine's side of the library: merge library entries into a ranked list, and plan their .bib edit.

Why here and not in ``engine.py``: the engine stays the one door (suggest, annotate) and calls two functions;
everything that knows pools, cite keys for new entries and the paper's target .bib lives in this package.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from startref.citations.bibindex import BibIndex, Entry
from startref.citations.library.append import BibEdit, BibTarget, plan_append, read_target
from startref.citations.library.pool import (LIBRARY_OFFSET, LibraryScores, LibraryView, library_candidates,
                                             score_library)
from startref.citations.library.pool_model import PoolList, PoolModel, load_pool_model
from startref.citations.library.store import Library
from startref.citations.query import build_query
from startref.latex.cites import CiteCommand

if TYPE_CHECKING:
    from startref.citations.engine import Engine, RankedEntry

__all__ = ["rank_with_library", "target_for", "plan_bib_edit"]


def rank_with_library(
    engine: Engine,
    library: Library,
    text: str,
    cursor: int,
    cites: Sequence[CiteCommand],
    index: BibIndex,
    ranked: list[RankedEntry],
    *,
    top: int,
    skip: CiteCommand | None = None,
    exclude_keys: Sequence[str] = (),
    after_start: int | None = None,
    offset: float | None = None,
    pool_model: PoolModel | None | str = "shipped",
) -> list[RankedEntry]:
    """``ranked`` (the paper's entries, best first) merged with the ``top`` best library entries, re-normalised.

    Scored by the library pool model (``pool_model``: ``"shipped"`` loads ``artifacts/library_pool.json`` when it
    exists) unless ``offset`` is given or there is no model: then library rows get the ranker's logit + offset."""
    from startref.citations.engine import RankedEntry

    model = load_pool_model() if pool_model == "shipped" else pool_model
    model = model if isinstance(model, PoolModel) and offset is None else None
    query = build_query(text, cursor, LibraryView(index, library.index), cites, skip=skip,  # type: ignore[arg-type]
                        exclude_keys=exclude_keys, after_start=after_start)
    scores = score_library(query, library, index, engine.encoder, engine.ranker, max(top, model.keep) if model else top,
                           0.0 if model else (LIBRARY_OFFSET if offset is None else offset))
    if model is not None:
        ranked, scores = _pool_scored(model, ranked, scores, top)
    extra = [
        RankedEntry(entry, float(scores.logits[row]), 0.0, scores.features[row], scores.gates, in_bib=False,
                    source=label)
        for entry, label, row in library_candidates(scores, library, index)
    ]
    merged = sorted([*ranked, *extra], key=lambda r: -r.logit)
    if not merged:
        return merged
    logits = np.array([r.logit for r in merged], np.float64)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    return [_with_prob(r, float(p)) for r, p in zip(merged, probs)]


def _pool_scored(model: PoolModel, ranked: list[RankedEntry], scores: LibraryScores, top: int
                 ) -> tuple[list[RankedEntry], LibraryScores]:
    """Both pools re-scored by ``model``; the library's ``top`` best kept."""
    from dataclasses import replace

    nf = scores.features.shape[1]
    own_feats = np.stack([r.features for r in ranked]) if ranked else np.zeros((0, nf), np.float32)
    own_gates = ranked[0].gates if ranked else np.zeros(0, np.float32)
    pl = PoolList(own_feats, np.array([r.logit for r in ranked], np.float32), own_gates, scores.features,
                  scores.logits, scores.gates, scores.n_candidates)
    own, lib = model.score(pl)
    ranked = [replace(r, logit=float(v)) for r, v in zip(ranked, own)]
    order = np.argsort(-lib, kind="stable")[:top]
    return ranked, LibraryScores(scores.positions[order], lib[order], scores.features[order], scores.gates,
                                 scores.n_candidates)


def _with_prob(r: RankedEntry, p: float) -> RankedEntry:
    from dataclasses import replace

    return replace(r, prob=p, source=r.source or r.entry.file)


def target_for(index: BibIndex, append_to: str | Path | None = None, bib_text: str | None = None) -> BibTarget | None:
    """The .bib new entries go to: ``append_to`` if given, else the first file the document names (the inline
    ``bib_text`` when that is the bibliography); ``None`` when there is no file to add to. A relative ``append_to``
    (``library.append_to = "refs.bib"`` in the configuration) names one of the document's .bib files when one
    ends that way, else a file next to the first of them."""
    if append_to is not None:
        return read_target(_resolve_target(index, Path(append_to)))
    if bib_text is not None:
        return BibTarget("<bib_text>", bib_text, None)
    files = [f for f in index.files if f.lower().endswith(".bib") and Path(f).is_file()]
    return read_target(files[0]) if files else None


def _resolve_target(index: BibIndex, wanted: Path) -> Path:
    if wanted.is_absolute():
        return wanted
    files = [Path(f) for f in index.files if f.lower().endswith(".bib")]
    for f in files:
        if f.parts[-len(wanted.parts):] == wanted.parts:
            return f
    if files and not wanted.exists():
        return files[0].parent / wanted
    return wanted


def plan_bib_edit(target: BibTarget | None, entries: Sequence[Entry]) -> BibEdit | None:
    """The append of ``entries`` (under the keys they carry) to ``target``, or ``None`` (nothing new, no target)."""
    if target is None or not entries:
        return None
    return plan_append(target, [(e.key, e) for e in entries])
