"""Fit boosted trees (LightGBM lambdarank) on mined cases and ship them as a re-ranker of a trained ranker's top.

Why on top of a ranker and not alone: measured on the dev set (MODEL_CARD.md, "Accuracy II"), the trees alone rank
about as well as the listwise networks, but the two make different mistakes, and their z-mean over the networks'
best 100 candidates beats either. The networks also choose the trees' training negatives: every list keeps its
gold entries, the networks' ``top`` best candidates (the hard cases the trees must separate) and ``rand`` random
others (so that easy ones keep low scores); the full lists hold ~500 candidates on average and 7 million rows in
all, which would not fit the two-core budget of ``make train``.

LightGBM is a training dependency only (the ``train`` extra); ``tree_ensemble.TreeRanker`` scores with numpy.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from startref.citations.errors import StartrefError
from startref.citations.ranker import Ranker, load_ranker
from startref.citations.tree_ensemble import EnsembleRanker, TreeRanker, tree_inputs, trees_from_lightgbm

__all__ = ["TreeOptions", "subsample", "fit_trees", "fit_tree_ensemble"]


@dataclass(frozen=True)
class TreeOptions:
    """How the trees are fitted and mixed (the defaults are the shipped recipe's)."""

    rounds: int = 400
    leaves: int = 31
    learning_rate: float = 0.05
    top: int = 60  # hard negatives kept per training list (the base ranker's best)
    rand: int = 40  # random negatives kept per training list
    weight: float = 1.0  # the trees' weight in the z-mean (the base ranker weighs 1)
    top_k: int = 100  # how many of the base ranker's best the trees re-rank
    seed: int = 0


def subsample(groups: Sequence[tuple[np.ndarray, np.ndarray]], scorer: Callable[[np.ndarray], np.ndarray], top: int,
              rand: int, seed: int = 0,
              inputs: Callable[[np.ndarray], np.ndarray] = tree_inputs) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each list's ``inputs`` (the tree inputs, with the gates of the whole list) cut to its gold entries, the
    ``top`` best of ``scorer`` and ``rand`` random others (seeded)."""
    rng = np.random.default_rng(seed)
    out = []
    for f, g in groups:
        x = inputs(f)
        if len(g) <= top + rand:
            out.append((x, g))
            continue
        keep = np.zeros(len(g), bool)
        keep[g] = True
        keep[np.argsort(-scorer(f), kind="stable")[:top]] = True
        rest = np.nonzero(~keep)[0]
        keep[rng.choice(rest, min(rand, rest.size), replace=False)] = True
        out.append((x[keep], g[keep]))
    return out


def fit_trees(
    groups: Sequence[tuple[np.ndarray, np.ndarray]], base: Ranker, options: TreeOptions = TreeOptions(),
    progress: Callable[[str], None] | None = None,
) -> TreeRanker:
    """LightGBM lambdarank on (features, gold) lists, negatives chosen by ``base``; deterministic per seed."""
    try:
        import lightgbm as lgb
    except (ImportError, OSError) as exc:  # OSError: the wheel's OpenMP runtime (libgomp1) is missing
        raise StartrefError(f"fitting trees needs LightGBM (pip install 'startref[train]'): {exc}") from exc
    lists = [(x, g) for x, g in subsample([(f, g) for f, g in groups if g.any() and len(g) > 1], base.score,
                                         options.top, options.rand, options.seed)]
    if not lists:
        raise StartrefError("no training queries with a gold entry in their candidate list")
    x = np.concatenate([x for x, _ in lists])
    y = np.concatenate([g for _, g in lists]).astype(np.int32)
    if progress:
        progress(f"trees: {len(lists)} lists, {len(y)} rows, {options.rounds} rounds of {options.leaves} leaves")
    params = {"objective": "lambdarank", "learning_rate": options.learning_rate, "num_leaves": options.leaves,
              "min_data_in_leaf": 50, "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1,
              "lambda_l2": 1.0, "num_threads": 2, "seed": options.seed, "verbose": -1, "deterministic": True,
              "force_row_wise": True, "lambdarank_truncation_level": 20}
    data = lgb.Dataset(x, y, group=[len(g) for _, g in lists], free_raw_data=True)
    booster = lgb.train(params, data, num_boost_round=options.rounds)
    return trees_from_lightgbm(booster, {"train_queries": len(lists), "rounds": options.rounds,
                                         "leaves": options.leaves, "learning_rate": options.learning_rate,
                                         "top": options.top, "rand": options.rand, "seed": options.seed})


def fit_tree_ensemble(
    groups: Sequence[tuple[np.ndarray, np.ndarray]], names: set[str], base_dir: Path, out_dir: Path,
    options: TreeOptions = TreeOptions(), progress: Callable[[str], None] | None = None,
    extra_meta: dict[str, object] | None = None,
) -> EnsembleRanker:
    """Fit trees on ``groups`` (from the papers ``names``) over the ranker in ``base_dir`` and write the ensemble
    to ``out_dir/ranker.json``. A base that is itself such an ensemble contributes its first member, so the
    command can be run again on its own output. ``out_dir/training.json`` keeps the base's paper list under
    ``papers`` (what ``--papers-from`` reproduces the base from) and the trees' under ``tree_papers``."""
    base = load_ranker(base_dir)
    if isinstance(base, EnsembleRanker):
        base = base.members[0]
    trees = fit_trees(groups, base, options, progress)
    trees.meta.update({"papers": len(names), **(extra_meta or {})})
    meta = {**base.meta, "ensemble": {"trees_weight": options.weight, "top_k": options.top_k,
                                      "tree_papers": len(names), "tree_queries": len(groups)}}
    ensemble = EnsembleRanker([base, trees], [1.0, options.weight], options.top_k, meta)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    base_training = Path(base_dir) / "training.json"
    listing: dict[str, object] = {}
    if base_training.is_file():
        listing = json.loads(base_training.read_text(encoding="utf-8"))
    listing["tree_papers"] = sorted(names)
    listing["tree_queries"] = len(groups)
    tmp = out_dir / "ranker.json.tmp"
    ensemble.save(tmp)
    tmp.replace(out_dir / "ranker.json")
    (out_dir / "training.json").write_text(json.dumps(listing, indent=2) + "\n", encoding="utf-8")
    return ensemble


def train_tree_ensemble(
    corpus: Path, out_dir: Path, encoder, base_dir: Path, options: TreeOptions = TreeOptions(), *,  # type: ignore[no-untyped-def]
    max_cases_per_paper: int = 300, drafting_share: float = 0.0, cache_dir: Path | None = None,
    progress: Callable[[str], None] | None = None, extra_meta: dict[str, object] | None = None,
) -> tuple[EnsembleRanker, int, int]:
    """Mine every paper of ``corpus`` (as ``startref train`` does, cached) and ``fit_tree_ensemble`` on them;
    returns the ensemble, the number of papers and of citations."""
    from startref.citations.training import mine_corpus

    groups, names, meta = mine_corpus(corpus, encoder, seed=options.seed, max_cases_per_paper=max_cases_per_paper,
                                      drafting_share=drafting_share, cache_dir=cache_dir, progress=progress)
    meta.update(extra_meta or {})
    ensemble = fit_tree_ensemble(groups, names, base_dir, out_dir, options, progress, meta)
    return ensemble, len(names), len(groups)
