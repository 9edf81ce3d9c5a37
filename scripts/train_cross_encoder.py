"""Train the cross-encoder re-ranker (``citations/cross_encoder/scorer.py``) on the training corpus, then choose its top K
and weight on held-out training papers.

    python scripts/train_cross_encoder.py lists  OUT.jsonl [--cache /work/main/.cache/mined-v2-cap300]
    python scripts/train_cross_encoder.py train  LISTS.jsonl MODEL_DIR [--minutes 60] [--threads 2]
    python scripts/train_cross_encoder.py train  LISTS.jsonl MODEL_DIR --device cuda --residual --validate \
        --layers 6 --list-size 16 --lists-per-step 32 --epochs 4      # the GPU recipe (the same runs on CPU, slowly)
    python scripts/train_cross_encoder.py tune   LISTS.jsonl MODEL_DIR      # writes k and weight into rerank.json

``lists``: every mined training case (``scripts/mine_features.py`` caches: 300 cases per paper, 30% also with
nothing after the cursor) as the context and the shipped ranker's top 16 candidates. Never the bench papers.
``train``: fine-tunes the packaged all-MiniLM-L6-v2 on the lists of the papers not held out (15% of the papers,
by a seeded hash of their names, are kept for ``tune``), for ``--minutes`` of wall time at most, checkpointing.
``--residual``: learn on top of the ranker's logit (``training.py``); ``--validate``: the held-out papers' loss after
each epoch picks the epoch kept.
``tune``: ranker score + w x cross-encoder score over the top K, grid over K and w on the held-out papers' lists,
best hit@1 (ties: the smaller K, the cheaper one); K at most 5: more does not fit the latency budget on one core.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _progress(t0: float):  # type: ignore[no-untyped-def]
    return lambda msg: print(f"[{time.time() - t0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def cmd_lists(args: argparse.Namespace) -> int:
    from startref.citations.cross_encoder.lists import corpus_lists, held_out, save_lists
    from startref.citations.ranker import load_ranker
    from startref.citations.training import _readable, find_corpus_papers

    progress = _progress(time.time())
    papers = find_corpus_papers(args.corpus)
    lists = corpus_lists(((p.name, loaded) for p, loaded in _readable(papers, progress)), args.cache, load_ranker(),
                         progress, max_cases=args.max_cases, drafting_share=args.drafting_share)
    save_lists(args.out, lists)
    kept = {cl.paper for cl in lists if held_out(cl.paper)}
    progress(f"{len(lists)} lists from {len({cl.paper for cl in lists})} papers ({len(kept)} held out) -> {args.out}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from startref.citations.cross_encoder.lists import held_out, load_lists
    from startref.citations.cross_encoder.training import TrainConfig, train_cross_encoder
    from startref.citations.models import default_encoder_path

    progress = _progress(time.time())
    every = load_lists(args.lists)
    lists = [cl for cl in every if not held_out(cl.paper)]
    validation = [cl for cl in every if held_out(cl.paper)] if args.validate else []
    config = TrainConfig(minutes=args.minutes, threads=args.threads, max_steps=args.max_steps, epochs=args.epochs,
                         lists_per_step=args.lists_per_step, list_size=args.list_size, save_every=args.save_every,
                         max_tokens=args.max_tokens, layers=args.layers, seed=args.seed, lr=args.lr,
                         residual=args.residual, device=args.device)
    progress(f"{len(lists)} lists of {len({cl.paper for cl in lists})} papers; {config}")
    result = train_cross_encoder(lists, args.base or default_encoder_path(), args.model, config, progress, validation)
    progress(f"done: {result.steps} steps, {result.lists} lists, {result.pairs} pairs in {result.seconds / 60:.1f} min "
             f"(loss {result.last_loss:.3f}" + (f", ranker scale {result.ranker_scale:.3f}" if args.residual else "")
             + (f", kept epoch {result.kept_epoch} of held-out losses {result.validation}" if result.validation
                else "") + f") -> {args.model}")
    return 0


def list_scores(model, lists, depth: int) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    """The cross-encoder's score of each list's first ``depth`` candidates."""
    return [model.score(cl.query, cl.candidates[:depth]) for cl in lists]


KS = (2, 3, 5)
WEIGHTS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0)


def grid(lists, ce: list[np.ndarray], ks=KS, weights=WEIGHTS):  # type: ignore[no-untyped-def]
    """hit@1 (and MRR over the list) of every (K, w) on ``lists``; a case whose gold is not in the list counts 0."""
    from startref.citations.cross_encoder.scorer import combined_order

    rows = []
    for k in ks:
        for w in weights:
            hits, rr = [], []
            for cl, s in zip(lists, ce):
                kk = min(k, len(s))
                order = list(combined_order(np.array(cl.scores[:kk]), s[:kk], w)) + list(range(kk, len(cl.gold)))
                ranks = [r for r, i in enumerate(order, 1) if cl.gold[i]]
                hits.append(bool(ranks) and ranks[0] == 1)
                rr.append(1 / ranks[0] if ranks and ranks[0] <= 10 else 0.0)
            rows.append((k, w, float(np.mean(hits)), float(np.mean(rr))))
    return rows


def cmd_tune(args: argparse.Namespace) -> int:
    from startref.citations.cross_encoder.scorer import CrossEncoder, RerankSettings, read_settings, write_settings
    from startref.citations.cross_encoder.lists import held_out, load_lists
    from startref.citations.models import configure_torch_threads

    progress = _progress(time.time())
    configure_torch_threads()
    lists = [cl for cl in load_lists(args.lists) if held_out(cl.paper)]
    model = CrossEncoder(args.model, device=args.device)
    ce = list_scores(model, lists, max(KS))
    progress(f"scored {len(lists)} held-out lists ({len({cl.paper for cl in lists})} papers)")
    trained = json.loads((args.model / "rerank.json").read_text(encoding="utf-8")).get("trained", {})
    weights = WEIGHTS
    if trained.get("ranker_scale"):
        # Residual training fixed the mix it learned: ranker x scale + cross-encoder, i.e. w = 1 / scale.
        weights = tuple(sorted({*WEIGHTS, round(1 / trained["ranker_scale"], 3)}))
    rows = grid(lists, ce, weights=weights)
    for k, w, h1, mrr in rows:
        print(f"K={k:2d} w={w:4.2f}  hit@1 {100 * h1:5.1f}%  MRR@10 {mrr:.3f}")
    for drafting in (False, True):
        sub = [(cl, s) for cl, s in zip(lists, ce) if cl.drafting == drafting]
        best = max(grid([c for c, _ in sub], [s for _, s in sub], weights=weights), key=lambda r: (r[2], -r[0]))
        print(f"{'drafting' if drafting else 'default'} ({len(sub)} lists): best K={best[0]} w={best[1]} "
              f"hit@1 {100 * best[2]:.1f}%")
    k, w, h1, _ = max(rows, key=lambda r: (r[2], -r[0]))
    base = next(r for r in rows if r[1] == 0.0)
    old = read_settings(args.model)
    if not args.dry_run:
        record = json.loads((args.model / "rerank.json").read_text(encoding="utf-8"))
        record.update({"tuned_on": f"{len(lists)} lists of held-out training papers",
                       "tuned_hit@1": round(h1, 4), "ranker_hit@1": round(base[2], 4)})
        write_settings(args.model, RerankSettings(k=k, weight=w, max_tokens=old.max_tokens),
                       {x: v for x, v in record.items() if x not in ("k", "weight", "max_tokens")})
    progress(f"chosen K={k} w={w}: hit@1 {100 * h1:.1f}% (ranker alone {100 * base[2]:.1f}%)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("lists")
    p.add_argument("out", type=Path)
    p.add_argument("--cache", type=Path, default=REPO / ".cache" / "mined-v2-cap300")
    p.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "train" / "papers")
    p.add_argument("--max-cases", type=int, default=300)
    p.add_argument("--drafting-share", type=float, default=0.3)
    p = sub.add_parser("train")
    p.add_argument("lists", type=Path)
    p.add_argument("model", type=Path)
    p.add_argument("--base", type=Path, default=None, help="initial weights (default: the packaged MiniLM)")
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--seed", type=int, default=0, help="data order and initialisation of the head")
    p.add_argument("--max-steps", type=int, default=0)
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--lists-per-step", type=int, default=4)
    p.add_argument("--list-size", type=int, default=6)
    p.add_argument("--save-every", type=int, default=200)
    p.add_argument("--max-tokens", type=int, default=96)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--residual", action="store_true", help="learn on top of the ranker's logit")
    p.add_argument("--validate", action="store_true", help="keep the epoch with the lowest held-out loss")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p = sub.add_parser("tune")
    p.add_argument("lists", type=Path)
    p.add_argument("model", type=Path)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    return {"lists": cmd_lists, "train": cmd_train, "tune": cmd_tune}[args.cmd](args)


if __name__ == "__main__":
    raise SystemExit(main())
