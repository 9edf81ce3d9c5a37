"""Does a ranker trained on an author's own papers rank that author's next paper better?

    python bench/own_papers.py            # ~35 minutes on two cores: mining the features is most of it

The question behind ``startref train ~/my-papers``. Measured on shared/train only (never on the dev set): the
papers of every owner with at least two papers there (the ``owner__repo`` folder names) are held out. A "base"
ranker is fitted on all other papers; then each held-out paper is ranked by the base ranker and by a ranker fitted
on the same owner's *other* papers only — what a user with a couple of papers of their own would get. Features are
mined as ``make train`` mines them (cross-fitted encoder adapters, at most 300 citations per paper, seed 0); both
rankers are single networks of the shipped kind (seed 0), so the two rows differ only in what they learned from.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

from ranking import metrics, pct, table  # noqa: E402  (bench/ranking.py: the same measures and tables)
from startref.citations.ranker import Ranker, fit_mlp_listwise  # noqa: E402
from startref.citations.training import crossfit_encoders, feature_groups, find_corpus_papers  # noqa: E402

Cases = list[tuple[np.ndarray, np.ndarray]]


def owner(paper: str) -> str:
    """``owner__repo`` -> ``owner`` (the shared/ layout names each paper after its repository)."""
    return paper.split("__", 1)[0]


def ranks(ranker: Ranker, cases: Cases) -> list[int]:
    out: list[int] = []
    for feats, gold in cases:
        order = np.argsort(-ranker.score(feats), kind="stable")
        out.append(int(np.nonzero(gold[order])[0][0]) + 1)
    return out


def row(label: str, trained_on: str, r: Sequence[int]) -> list[str]:
    m = metrics(r)
    return [label, trained_on, str(len(r)), pct(m["hit@1"]), pct(m["hit@5"]), f"{m['mrr@10']:.3f}"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, default=SHARED / "train" / "papers")
    parser.add_argument("--crossfit", type=Path, default=REPO / "citations" / "artifacts" / "crossfit")
    args = parser.parse_args(argv)

    by_paper: dict[str, Cases] = defaultdict(list)
    progress = lambda message: print(f"  {message}", file=sys.stderr, flush=True)  # noqa: E731
    for name, feats, gold in feature_groups(find_corpus_papers(args.train), crossfit_encoders(args.crossfit), progress):
        by_paper[name].append((feats, gold))
    papers_of: dict[str, list[str]] = defaultdict(list)
    for name in sorted(by_paper):
        papers_of[owner(name)].append(name)
    held = {o: names for o, names in papers_of.items() if len(names) >= 2}
    held_names = {n for names in held.values() for n in names}
    base_cases = [c for name, cases in by_paper.items() if name not in held_names for c in cases]
    base = fit_mlp_listwise(base_cases, members=1)
    base_ranks: list[int] = []
    own_ranks: list[int] = []
    own_sizes: list[int] = []
    for names in held.values():
        for test in names:
            own = [c for n in names if n != test for c in by_paper[n]]
            base_ranks += ranks(base, by_paper[test])
            own_ranks += ranks(fit_mlp_listwise(own, members=1), by_paper[test])
            own_sizes.append(len(own))
    papers_base = len(by_paper) - len(held_names)
    print(f"{len(held_names)} held-out papers of {len(held)} owners with two or more papers in {args.train}\n")
    others = sorted({len(names) - 1 for names in held.values()})
    span = f"{others[0]}-{others[-1]}" if others[0] != others[-1] else f"{others[0]}"
    rows = [
        row("base", f"{papers_base} papers of other owners ({len(base_cases)} citations)", base_ranks),
        row("own papers", f"the owner's other {span} papers (median {int(np.median(own_sizes))} citations)", own_ranks),
    ]
    print(table(rows, ["ranker", "trained on", "cases", "hit@1", "hit@5", "MRR@10"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
