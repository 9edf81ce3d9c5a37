"""Fit the library pool model (``pool_model``) on lists mined from the training papers.

Why three kinds of list per citation (all built as ``bench/library.py`` measures them, from one cursor):
- **in .bib**: the paper's .bib plus the library's candidates (works the .bib holds left out); the gold is the
  paper's entry. Teaches "do not let a library entry push the right .bib entry down";
- **new**: the same, but the gold work removed from the .bib and present only in the library (a first citation not
  added to the .bib yet; only for citations not cited earlier in the document). Teaches "when the .bib has nothing
  that fits, propose the library's";
- **library only**: no .bib, the library's candidates (the paper's own entries among them). Teaches the order
  within the library, where the .bib-order features the ranker leans on are zero.
The balance between the first two is a prior (how often a citation is new); after the trees, one shift of the
library rows is fitted on held-out training papers (out-of-fold): the largest that keeps in-.bib hit@1 within
``margin`` of the .bib alone, as the issue asks, and among those the one that finds new citations best.

LightGBM is a training dependency only (the ``train`` extra), as for the ranker's trees.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from startref.citations.errors import StartrefError
from startref.citations.library.pool_model import PoolList, PoolModel, pool_inputs
from startref.citations.tree_ensemble import trees_from_lightgbm

__all__ = ["MinedCase", "TrainingList", "case_lists", "PoolOptions", "fit_pool_model", "list_rank", "Scored",
           "score_lists", "kind_ranks", "choose_shift", "KINDS", "SHIFTS"]

KINDS = ("in_bib", "new", "library_only")
SHIFTS = tuple(float(x) for x in np.arange(-3.0, 3.01, 0.25))


@dataclass
class MinedCase:
    """One mined citation (``bench/library.py``'s ``run_papers``, on dev or training papers): the paper's entries
    (logits, which are gold), every library row (raw logits, offset 0), the library rows of the gold work, and
    whether the gold was cited earlier in the document."""

    paper: np.ndarray
    gold_in_paper: np.ndarray
    library: np.ndarray
    keep: np.ndarray
    gold_rows: list[int]
    recited: bool
    #: what the library pool model needs (``pool_model.PoolList``): the paper's feature rows and gates; the
    #: library's best ``bench/library.py``'s ``POOL_KEEP`` candidate rows (positions, features, gates of the candidate list, its size);
    #: the library-only list's best rows and which of them are the gold work
    own_feats: np.ndarray | None = None
    own_gates: np.ndarray | None = None
    lib_rows: np.ndarray | None = None
    lib_feats: np.ndarray | None = None
    lib_gates: np.ndarray | None = None
    lib_n: int = 0
    solo_logits: np.ndarray | None = None
    solo_feats: np.ndarray | None = None
    solo_gates: np.ndarray | None = None
    solo_n: int = 0
    solo_gold: np.ndarray | None = None


@dataclass(frozen=True)
class TrainingList:
    """A merged list and its gold rows (the paper's rows first, then the library's, as ``pool_inputs``)."""

    kind: str
    pool: PoolList
    gold: np.ndarray
    paper: str = ""


def case_lists(c: MinedCase, paper: str = "") -> list[TrainingList]:
    """The in-.bib, new and library-only lists of one mined citation (those it has)."""
    out: list[TrainingList] = []
    if c.own_feats is None or c.lib_rows is None or c.lib_feats is None:
        return out
    nf = c.own_feats.shape[1]
    no_gates = np.zeros(0, np.float32)
    lib_logits = c.library[c.lib_rows]
    in_keep = c.keep[c.lib_rows]
    lib_gates = c.lib_gates if c.lib_gates is not None else no_gates
    own = PoolList(c.own_feats, c.paper, c.own_gates, c.lib_feats[in_keep], lib_logits[in_keep], lib_gates, c.lib_n)
    out.append(TrainingList("in_bib", own, np.concatenate([c.gold_in_paper, np.zeros(int(in_keep.sum()), bool)]),
                            paper))
    if not c.recited and c.gold_rows:
        rest = ~c.gold_in_paper
        new = PoolList(c.own_feats[rest], c.paper[rest], c.own_gates, c.lib_feats, lib_logits, lib_gates,
                       c.lib_n + 1)
        out.append(TrainingList("new", new, np.concatenate([np.zeros(int(rest.sum()), bool),
                                                            np.isin(c.lib_rows, c.gold_rows)]), paper))
    if c.solo_feats is not None and c.solo_logits is not None and c.solo_gold is not None:
        solo = PoolList(np.zeros((0, nf), np.float32), np.zeros(0, np.float32), no_gates, c.solo_feats,
                        c.solo_logits, c.solo_gates if c.solo_gates is not None else no_gates, c.solo_n)
        out.append(TrainingList("library_only", solo, c.solo_gold.copy(), paper))
    return out


def list_rank(own: np.ndarray, lib: np.ndarray, gold: np.ndarray) -> int | None:
    """1-based rank of the best gold row in the merged list (``None``: no gold row in it)."""
    scores = np.concatenate([np.asarray(own, np.float64), np.asarray(lib, np.float64)])
    if not gold.any():
        return None
    return int((scores > scores[gold].max()).sum()) + 1


@dataclass(frozen=True)
class PoolOptions:
    """How the trees are fitted (defaults: the shipped recipe)."""

    rounds: int = 200
    leaves: int = 15
    learning_rate: float = 0.05
    min_data_in_leaf: int = 100
    library_offset: float = -0.5  # the old behaviour the trees correct (``pool.LIBRARY_OFFSET``)
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0)  # per list kind: in_bib, new, library_only
    keep: int = 100
    own_rows: int = 40  # the paper's rows kept per training list (the ranker's best, and the gold)
    seed: int = 0


def _matrix(lists: Sequence[TrainingList], base: PoolModel, own_rows: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """Inputs, starting scores, labels and list sizes; of the paper's rows only the gold and the ``own_rows``
    best by the ranker are kept (all of them get the same correction; the others only make the lists long: a
    thesis's .bib has over a thousand entries)."""
    xs, inits, ys, groups = [], [], [], []
    for tl in lists:
        n_own = len(tl.pool.own_logits)
        keep = np.ones(tl.gold.size, bool)
        if n_own > own_rows:
            keep[:n_own] = False
            keep[np.argsort(-np.asarray(tl.pool.own_logits), kind="stable")[:own_rows]] = True
            keep[:n_own] |= tl.gold[:n_own]
        xs.append(pool_inputs(tl.pool)[keep])
        inits.append(base.init_scores(tl.pool)[keep])
        ys.append(tl.gold[keep].astype(np.int32))
        groups.append(int(keep.sum()))
    return np.vstack(xs), np.concatenate(inits), np.concatenate(ys), groups


def fit_pool_model(lists: Sequence[TrainingList], options: PoolOptions = PoolOptions(),
                   progress: Callable[[str], None] | None = None, meta: dict[str, Any] | None = None) -> PoolModel:
    """LightGBM lambdarank over ``lists`` (those with a gold row and another row), boosting from the offset
    behaviour (``init_score``); deterministic per seed."""
    try:
        import lightgbm as lgb
    except (ImportError, OSError) as exc:
        raise StartrefError(f"fitting the library pool model needs LightGBM (pip install 'startref[train]'): {exc}") from exc
    usable = [tl for tl in lists if tl.gold.any() and tl.gold.size > 1]
    if not usable:
        raise StartrefError("no training list with a gold row in it")
    base = PoolModel.offset_only(options.library_offset, options.keep)
    x, init, y, groups = _matrix(usable, base, options.own_rows)
    kind_weight = dict(zip(KINDS, options.weights))
    group_weights = np.array([kind_weight[tl.kind] for tl in usable], np.float64)
    if progress:
        counts = {k: sum(tl.kind == k for tl in usable) for k in KINDS}
        progress(f"pool model: {len(usable)} lists {counts}, {len(y)} rows, {options.rounds} rounds")
    params = {"objective": "lambdarank", "learning_rate": options.learning_rate, "num_leaves": options.leaves,
              "min_data_in_leaf": options.min_data_in_leaf, "feature_fraction": 0.8, "bagging_fraction": 0.8,
              "bagging_freq": 1, "lambda_l2": 1.0, "num_threads": 2, "seed": options.seed, "verbose": -1,
              "deterministic": True, "force_row_wise": True, "lambdarank_truncation_level": 20}
    data = lgb.Dataset(x, y, group=groups, init_score=init, weight=group_weights, free_raw_data=True)
    booster = lgb.train(params, data, num_boost_round=options.rounds)
    trees = trees_from_lightgbm(booster, {"rounds": options.rounds, "leaves": options.leaves,
                                          "learning_rate": options.learning_rate, "lists": len(usable)})
    return PoolModel(trees, options.library_offset, 0.0, options.keep, dict(meta or {}))


@dataclass(frozen=True)
class Scored:
    """A list's scores under a model (library shift not applied), to read ranks at any shift."""

    kind: str
    own: np.ndarray
    lib: np.ndarray
    gold: np.ndarray


def score_lists(model: PoolModel, lists: Sequence[TrainingList]) -> list[Scored]:
    out = []
    for tl in lists:
        own, lib = model.score(tl.pool)
        out.append(Scored(tl.kind, own, lib - model.library_shift, tl.gold))
    return out


def kind_ranks(scored: Sequence[Scored], shift: float = 0.0) -> dict[str, list[int]]:
    """Per list kind, the gold's rank in each list with library rows shifted by ``shift`` (a list whose gold is
    not among its rows counts as ranked after all of them)."""
    out: dict[str, list[int]] = {k: [] for k in KINDS}
    for sc in scored:
        r = list_rank(sc.own, sc.lib + shift, sc.gold)
        out[sc.kind].append(r if r is not None else sc.gold.size + 1)
    return out


def choose_shift(scored: Sequence[Scored], own_only_hit1: float, margin: float = 0.03,
                 shifts: Sequence[float] = SHIFTS, floor: float = 0.0
                 ) -> tuple[float, list[tuple[float, float, float, float]]]:
    """The library shift (see the module docstring; in-.bib hit@1 also at least ``floor``: the shipped offset's
    on the same lists, so the model never trades .bib accuracy for new citations) and the grid (shift, in-.bib
    hit@1, new hit@1, library-only hit@1) it was read from."""
    own_only_hit1 = max(own_only_hit1, floor + margin)
    grid = []
    for s in shifts:
        r = kind_ranks(scored, s)
        hit1 = {k: float(np.mean(np.array(v) == 1)) if v else 0.0 for k, v in r.items()}
        grid.append((float(s), hit1["in_bib"], hit1["new"], hit1["library_only"]))
    allowed = [g for g in grid if g[1] >= own_only_hit1 - margin] or [max(grid, key=lambda g: g[1])]
    best = max(allowed, key=lambda g: (g[2], g[0]))
    return best[0], grid
