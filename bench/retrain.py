"""Retraining experiments on cached features: learning curve, drafting share, pool gate; the candidate ranker.

    python scripts/mine_features.py .cache/mined-v2 --drafting-share 0.3              # training features (cached)
    python scripts/mine_features.py .cache/dev-v2 --corpus ../shared/bench/papers \\
        --shipped-adapter --max-cases 100000 --drafting-share 1.0                    # dev features, both protocols
    python bench/retrain.py --curve --drafting-ablation --save DIR                   # the tables below

Why a separate script: ``bench/ranking.py`` measures one shipped ranker through the real request path (latency
included); choosing what to ship needs many rankers scored on the same dev cases, so this one fits on the mined
training features and scores on mined dev features (computed by the same code, with the run-time encoder), under
both protocols: "default" (the finished paper) and "drafting" (nothing after the cursor).
Never trains on the dev papers: they are only scored.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ranking import metrics, pct, table, training_owners, _fields  # noqa: E402

from startref.citations.mining_cache import MinedPaper, cached_mine  # noqa: E402
from startref.citations.ranker import Ranker, fit_mlp_listwise, load_ranker  # noqa: E402
from startref.citations.training import _readable, crossfit_encoders, find_corpus_papers  # noqa: E402


def load_mined(corpus: Path, cache: Path, encoder, *, max_cases: int, drafting_share: float,  # type: ignore[no-untyped-def]
               mine_missing: bool = True) -> list[MinedPaper]:
    """The corpus's mined papers, from the cache (mining what is missing, unless ``mine_missing`` is False)."""
    papers = find_corpus_papers(corpus)
    loaded = ((p.name, paper) for p, paper in _readable(papers, None))
    return list(cached_mine(loaded, encoder, cache, max_cases=max_cases, seed=0, drafting_share=drafting_share,
                            mine_missing=mine_missing))


def dev_ranks(ranker: Ranker | Callable[[np.ndarray], np.ndarray], dev: Sequence[MinedPaper], drafting: bool) -> dict[str, list[int]]:
    """Per dev paper, the 1-based rank of the first gold entry of each case."""
    score = ranker.score if hasattr(ranker, "score") else ranker
    out: dict[str, list[int]] = {}
    for paper in dev:
        ranks = []
        for feats, gold in paper.groups(drafting=drafting):
            order = np.argsort(-score(feats), kind="stable")
            pos = np.nonzero(gold[order])[0]
            ranks.append(int(pos[0]) + 1 if pos.size else len(order) + 1)
        out[paper.name] = ranks
    return out


def summarise(ranks: dict[str, list[int]], fields: dict[str, str], owners: set[str]) -> dict[str, object]:
    pooled = [r for rs in ranks.values() for r in rs]
    unseen = [r for name, rs in ranks.items() if name.split("__")[0] not in owners for r in rs]
    by_field: dict[str, list[int]] = {}
    for name, rs in ranks.items():
        by_field.setdefault(fields.get(name, ""), []).extend(rs)
    return {"all": metrics(pooled), "unseen_owners": metrics(unseen),
            "by_field": {f: metrics(r) for f, r in sorted(by_field.items())}}


def row(label: str, s_default: dict, s_draft: dict) -> list[str]:  # type: ignore[type-arg]
    a, d = s_default["all"], s_draft["all"]
    worst = min(s_default["by_field"].items(), key=lambda kv: kv[1]["hit@1"])
    return [label, pct(a["hit@1"]), pct(a["hit@5"]), pct(a["hit@10"]), f"{a['mrr@10']:.3f}",
            pct(s_default["unseen_owners"]["hit@1"]), f"{worst[0]} {pct(worst[1]['hit@1'])}",
            pct(d["hit@1"]), pct(d["hit@5"]), f"{d['mrr@10']:.3f}"]


HEADER = ["ranker (dev, own bibliography)", "hit@1", "hit@5", "hit@10", "MRR@10", "hit@1 owners not in training",
          "weakest field hit@1", "drafting hit@1", "drafting hit@5", "drafting MRR@10"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, default=SHARED / "train" / "papers")
    parser.add_argument("--dev", type=Path, default=SHARED / "bench" / "papers")
    parser.add_argument("--train-cache", type=Path, default=REPO / ".cache" / "mined-v2")
    parser.add_argument("--dev-cache", type=Path, default=REPO / ".cache" / "dev-v2")
    parser.add_argument("--drafting-share", type=float, default=0.3, help="share mined with nothing after the cursor")
    parser.add_argument("--max-cases", type=int, default=300, help="cases per training paper (as mined)")
    parser.add_argument("--cached-only", action="store_true", help="use the training papers mined so far only")
    parser.add_argument("--curve", action="store_true", help="single networks on a quarter, half and all papers")
    parser.add_argument("--drafting-ablation", action="store_true", help="all papers with and without drafting cases")
    parser.add_argument("--members", type=int, default=3, help="networks in the candidate ranker (--save)")
    parser.add_argument("--save", type=Path, default=None, help="fit the candidate ranker (all papers) and write it here")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    from startref.citations.encoder import load_encoder

    t0 = time.time()
    log = lambda msg: print(f"[{time.time() - t0:6.0f}s] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    train = load_mined(args.train, args.train_cache, crossfit_encoders(REPO / "citations" / "artifacts" / "crossfit"),
                       max_cases=args.max_cases, drafting_share=args.drafting_share,
                       mine_missing=not args.cached_only)
    dev_encoder = load_encoder(None, adapter=REPO / "citations" / "artifacts", keep_traced=False)
    dev = load_mined(args.dev, args.dev_cache, dev_encoder, max_cases=100000, drafting_share=1.0)
    log(f"train: {len(train)} papers, {sum(len(p.feats) for p in train)} cases; dev: {len(dev)} papers, "
        f"{sum(len(p.feats) for p in dev)} cases")
    fields, owners = _fields(args.dev), training_owners(args.train)
    results: dict[str, object] = {}
    rows: list[list[str]] = []

    def evaluate(label: str, ranker) -> None:  # type: ignore[no-untyped-def]
        sd = summarise(dev_ranks(ranker, dev, False), fields, owners)
        sdr = summarise(dev_ranks(ranker, dev, True), fields, owners)
        results[label] = {"default": sd, "drafting": sdr}
        rows.append(row(label, sd, sdr))
        log(f"{label}: " + " | ".join(rows[-1][1:]))

    evaluate("shipped ranker (73 papers, 7,531 cases)", load_ranker())

    def groups(papers: Sequence[MinedPaper], drafting: bool) -> list[tuple[np.ndarray, np.ndarray]]:
        return [g for p in papers for g in p.groups(drafting=drafting)]

    if args.curve:
        order = sorted(train, key=lambda p: p.name)
        random.Random(0).shuffle(order)
        for share, label in ((0.25, "quarter"), (0.5, "half"), (1.0, "all")):
            part = order[: max(1, round(share * len(order)))]
            g = groups(part, True)
            log(f"fitting on {label}: {len(part)} papers, {len(g)} cases")
            evaluate(f"1 network, {label} ({len(part)} papers, {len(g)} cases)", fit_mlp_listwise(g, members=1))
    if args.drafting_ablation:
        g = groups(train, False)
        evaluate(f"1 network, all, no drafting cases ({len(g)} cases)", fit_mlp_listwise(g, members=1))
    if args.save:
        g = groups(train, args.drafting_share > 0)
        log(f"fitting the candidate: {args.members} networks on {len(g)} cases")
        ranker = fit_mlp_listwise(g, members=args.members, progress=log)
        ranker.meta.update({"papers": len(train), "seed": 0, "corpus": args.train.name, "max_cases_per_paper": args.max_cases,
                            "drafting_share": args.drafting_share, "crossfit": "citations/artifacts/crossfit"})
        args.save.mkdir(parents=True, exist_ok=True)
        ranker.save(args.save / "ranker.json")
        from startref.citations.encoder_training import ADAPTER_FILE, ADAPTER_META

        for name in (ADAPTER_FILE, ADAPTER_META):  # the ranker was fitted on this adapter's features
            shutil.copy2(REPO / "citations" / "artifacts" / name, args.save / name)
        evaluate(f"candidate: {args.members} networks, all ({len(g)} cases)", ranker)
    print(table(rows, HEADER))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
