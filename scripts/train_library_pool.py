"""Fit the library pool model (``citations/library/pool_model.py``) on mined training lists and write the artifact.

    nice -n 15 python scripts/mine_library_lists.py --cases 12 --papers unseen     # the lists (training papers only)
    nice -n 15 python scripts/train_library_pool.py .cache/libpool --out citations/artifacts/library_pool.json

Prints, per list kind (in .bib / new citation / library only), the old offset against the trees out-of-fold
(``--folds`` folds by paper: each paper's lists scored by trees that never saw that paper), fits the library shift
on those out-of-fold scores (``pool_training.choose_shift``), then fits the shipped trees on every list.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from startref.citations.library.pool_model import PoolModel  # noqa: E402
from startref.citations.library.pool_training import (KINDS, PoolOptions, Scored, TrainingList, case_lists,  # noqa: E402
                                                      choose_shift, fit_pool_model, kind_ranks, score_lists)


def load_lists(folders: list[Path]) -> tuple[dict[str, list[TrainingList]], list[float]]:
    """Lists per paper, and the .bib-alone reciprocal ranks of the in-.bib cases (the baseline the shift keeps)."""
    per_paper: dict[str, list[TrainingList]] = {}
    own_rr: list[float] = []
    for folder in folders:
        for path in sorted(folder.glob("*.pkl")):
            data = pickle.loads(path.read_bytes())
            lists = per_paper.setdefault(data["paper"], [])
            for c in data["cases"]:
                lists.extend(case_lists(c, data["paper"]))
                if c.gold_in_paper.any():
                    g = c.paper[c.gold_in_paper].max()
                    own_rr.append(1.0 / (int((c.paper > g).sum()) + 1))
    return per_paper, own_rr


def summary(scored: list[Scored], shift: float) -> dict[str, dict[str, float]]:
    out = {}
    for kind, ranks in kind_ranks(scored, shift).items():
        r = np.array(ranks, np.float64)
        out[kind] = {"n": int(r.size), "hit@1": float((r == 1).mean()) if r.size else 0.0,
                     "hit@5": float((r <= 5).mean()) if r.size else 0.0, "mrr": float((1 / r).mean()) if r.size else 0.0}
    return out


def row(label: str, s: dict[str, dict[str, float]]) -> str:
    cells = [f"{100 * s[k]['hit@1']:.1f} / {100 * s[k]['hit@5']:.1f} / {s[k]['mrr']:.3f}" for k in KINDS]
    return f"| {label:<44} | " + " | ".join(f"{c:<22}" for c in cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mined", type=Path, nargs="+", help="folders of scripts/mine_library_lists.py pickles")
    parser.add_argument("--out", type=Path, default=None, help="write the model here (default: only report)")
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=PoolOptions.rounds)
    parser.add_argument("--leaves", type=int, default=PoolOptions.leaves)
    parser.add_argument("--learning-rate", type=float, default=PoolOptions.learning_rate)
    parser.add_argument("--min-data-in-leaf", type=int, default=PoolOptions.min_data_in_leaf)
    parser.add_argument("--weights", type=float, nargs=3, default=list(PoolOptions.weights),
                        metavar=("IN_BIB", "NEW", "LIBRARY_ONLY"), help="weight of each list kind")
    parser.add_argument("--margin", type=float, default=0.03, help="in-.bib hit@1 kept within this of the .bib "
                        "alone when the shift is chosen (the issue: 3 points)")
    parser.add_argument("--shift", type=float, default=None, help="skip the cross-validation and ship this "
                        "library shift (one a cross-validated run of the same lists chose)")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    if any("bench" in p.resolve().parts for p in args.mined):
        parser.error("the library pool model is never trained on the dev papers")
    options = PoolOptions(rounds=args.rounds, leaves=args.leaves, learning_rate=args.learning_rate,
                          min_data_in_leaf=args.min_data_in_leaf, weights=tuple(args.weights))  # type: ignore[arg-type]
    t0 = time.perf_counter()
    per_paper, own_rr = load_lists(args.mined)
    papers = sorted(per_paper)
    own_hit1 = float(np.mean(np.array(own_rr) == 1.0))
    all_lists = [tl for p in papers for tl in per_paper[p]]
    print(f"{len(papers)} papers, {len(all_lists)} lists ({len(own_rr)} citations); .bib alone: "
          f"{100 * own_hit1:.1f}% hit@1, MRR {np.mean(own_rr):.3f}", file=sys.stderr)
    if args.shift is not None:
        return _fit_and_save(args, options, all_lists, papers, own_hit1, args.shift, {}, t0)
    baseline = score_lists(PoolModel.offset_only(options.library_offset, options.keep), all_lists)
    oof: list[Scored] = []
    t_cv = time.perf_counter()
    for fold in range(args.folds):
        held = {p for i, p in enumerate(papers) if i % args.folds == fold}
        model = fit_pool_model([tl for p in papers if p not in held for tl in per_paper[p]], options)
        oof.extend(score_lists(model, [tl for p in papers if p in held for tl in per_paper[p]]))
    cv_s = time.perf_counter() - t_cv
    # the lists in the same order as ``baseline`` (folds interleave papers)
    order = {id(tl): i for i, tl in enumerate(all_lists)}
    held_order = [tl for fold in range(args.folds) for i, p in enumerate(papers) if i % args.folds == fold
                  for tl in per_paper[p]]
    oof = [s for _, s in sorted(zip((order[id(tl)] for tl in held_order), oof), key=lambda t: t[0])]
    base_shift, base_grid = choose_shift(baseline, own_hit1, args.margin)
    base_in_bib = summary(baseline, 0.0)["in_bib"]["hit@1"]
    shift, grid = choose_shift(oof, own_hit1, args.margin, floor=base_in_bib)
    header = f"| {'scores (training papers, out-of-fold)':<44} | " + " | ".join(
        f"{k + ': hit@1/5/MRR':<22}" for k in KINDS) + " |"
    print(header)
    print("|" + "-" * 46 + "|" + "|".join("-" * 24 for _ in KINDS) + "|")
    print(row(f"offset {options.library_offset:+.2f} (shipped)", summary(baseline, 0.0)))
    print(row(f"offset {options.library_offset + base_shift:+.2f} (refitted here)", summary(baseline, base_shift)))
    print(row("pool trees, shift 0", summary(oof, 0.0)))
    print(row(f"pool trees, shift {shift:+.2f} (chosen)", summary(oof, shift)))
    print(f"\n.bib alone: {100 * own_hit1:.1f}% hit@1, the shipped offset in .bib {100 * base_in_bib:.1f}%; the "
          f"shift keeps in-.bib within {100 * args.margin:.0f} points of the first and no lower than the second; "
          f"grid (shift, in-bib, new, library-only hit@1):")
    for g in grid:
        print(f"  {g[0]:+.2f}  {100 * g[1]:.1f}  {100 * g[2]:.1f}  {100 * g[3]:.1f}")
    report = {"papers": papers, "lists": len(all_lists), "own_hit1": own_hit1, "shift": shift,
              "baseline": summary(baseline, 0.0), "oof": summary(oof, shift), "grid": grid, "cv_s": cv_s,
              "options": options.__dict__}
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    return _fit_and_save(args, options, all_lists, papers, own_hit1, shift, report, t0)


def _fit_and_save(args: argparse.Namespace, options: PoolOptions, lists: list[TrainingList], papers: list[str],
                  own_hit1: float, shift: float, report: dict, t0: float) -> int:
    if not args.out:
        return 0
    t_fit = time.perf_counter()
    model = fit_pool_model(lists, options, meta={"papers": papers, "lists": len(lists), "own_hit1": own_hit1,
                                                 **({"oof": report["oof"]} if "oof" in report else {})})
    model.library_shift = shift
    model.save(args.out)
    print(f"\nwrote {args.out} (shift {shift:+.2f}; final fit {time.perf_counter() - t_fit:.0f} s; "
          f"total {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
