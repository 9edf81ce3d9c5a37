"""``startref train``: learn the ranker from a folder of papers.

Why a command and not a script: anyone with a corpus of papers (another field, another language, a lab's whole
output) can fit the ranker to it the way the shipped one was fitted. The result is a folder (``ranker.json`` +
``training.json``) that ``--model-dir`` selects everywhere else. A handful of one's own papers is not such a
corpus — measured, it ranks worse than the shipped ranker (MODEL_CARD.md) — so the command says so when it sees one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from startref.cli.errors import EXIT_OK

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add ``train`` to the ``startref`` parser."""
    parser = subparsers.add_parser(
        "train",
        help="learn the ranker's weights from a folder of papers (.tex + .bib)",
        description="Mine every citation of the papers under CORPUS_DIR with the leave-one-out protocol of "
        "`startref eval`, fit the listwise ranker and write it to MODEL_DIR. CORPUS_DIR is either the shared/ "
        "layout (one folder per paper with a SOURCE.txt naming main_tex and bib_files) or any tree of .tex files: "
        "every .tex with a \\documentclass is a paper and its bibliography is discovered as LaTeX would.",
    )
    parser.add_argument("corpus", type=Path, metavar="CORPUS_DIR", help="folder of papers")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="MODEL_DIR", help="where to write ranker.json")
    parser.add_argument("--seed", type=int, default=0, help="seed for sampling cases (default 0)")
    parser.add_argument("--max-cases", type=int, default=300, help="citations sampled per paper (default 300)")
    parser.add_argument(
        "--ranker", choices=("mlp", "linear", "trees"), default="mlp",
        help="mlp (default): a linear part plus one small hidden layer; linear: readable weights only; trees: "
        "boosted trees (LightGBM, the train extra) fitted on this corpus that re-rank the top of the ranker in "
        "--base (the shipped ranker is networks + trees)",
    )
    parser.add_argument("--base", type=Path, metavar="MODEL_DIR",
                        help="with --ranker trees: the trained ranker whose best candidates the trees re-rank")
    parser.add_argument("--tree-rounds", type=int, default=400, help="boosting rounds of the trees (default 400)")
    parser.add_argument("--tree-weight", type=float, default=1.0,
                        help="the trees' weight next to the base ranker's 1 (default 1)")
    parser.add_argument("--top-k", type=int, default=100, help="how many of the base's best the trees re-rank (100)")
    parser.add_argument("--hidden", type=int, default=16, help="hidden units of the mlp ranker (default 16)")
    parser.add_argument("--steps", type=int, default=200, help="optimiser steps of the mlp ranker (default 200)")
    parser.add_argument(
        "--members", type=int, default=3, help="networks averaged into the mlp ranker, one per seed (default 3)"
    )
    parser.add_argument("--l2", type=float, default=1e-2, help="L2 regularisation of the linear ranker (default 0.01)")
    parser.add_argument("--encoder", metavar="PATH", help="sentence encoder path (default: the embedded MiniLM)")
    parser.add_argument(
        "--encoder-epochs", type=int, default=0, metavar="N",
        help="also fine-tune the encoder's top two layers for N epochs on the corpus's (context, title) pairs and "
        "write them as MODEL_DIR/encoder_adapter.safetensors (minutes on a GPU, about an hour on two CPU cores); "
        "default 0 keeps the shipped adapter",
    )
    parser.add_argument("--device", choices=("cpu", "cuda", "mps"), default="cpu", help="where to fine-tune the encoder")
    parser.add_argument(
        "--crossfit", type=Path, metavar="DIR",
        help="mine each paper with an encoder adapter fine-tuned on the other half of the corpus (DIR/halves.json, "
        "DIR/h0, DIR/h1, as --encoder-epochs writes them to MODEL_DIR/crossfit); without it, an adapter fine-tuned "
        "on these same papers would look better to the ranker than it is on new ones",
    )
    parser.add_argument(
        "--drafting-share", type=float, default=0.0, metavar="F",
        help="share of the citations mined with nothing after the cursor, as when drafting (default 0)",
    )
    parser.add_argument(
        "--cache", type=Path, metavar="DIR",
        help="keep the mined features in DIR (one file per paper) and reuse them while paper, encoder and options "
        "are unchanged: a second fit skips the mining",
    )
    parser.add_argument(
        "--papers-from", type=Path, metavar="TRAINING_JSON",
        help="train only on the papers this training.json lists (as every trained model dir holds one): a corpus "
        "that has grown since still reproduces that model",
    )
    parser.add_argument("--quiet", action="store_true", help="no per-paper progress lines")
    parser.set_defaults(func=run)


def _adapter(args: argparse.Namespace, progress: Any) -> Path | None:
    """The encoder adapter MODEL_DIR will hold: freshly fine-tuned, the shipped one copied in, or none."""
    import shutil

    from startref.citations.encoder_training import ADAPTER_FILE, ADAPTER_META, fine_tune, write_pairs
    from startref.citations.models import default_encoder_path
    from startref.citations.ranker import default_ranker_path
    from startref.citations.training import encoder_pairs, find_corpus_papers, split_halves

    out: Path = args.output
    out.mkdir(parents=True, exist_ok=True)
    if args.encoder is not None:
        return None  # an adapter belongs to the embedded MiniLM, not to a user's own encoder
    if args.encoder_epochs > 0:
        pairs = encoder_pairs(find_corpus_papers(args.corpus), seed=args.seed, progress=progress)
        halves = split_halves(pairs)
        crossfit = out / "crossfit"
        crossfit.mkdir(exist_ok=True)
        (crossfit / "halves.json").write_text(json.dumps(halves, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        jobs = [(pairs, out), *(([p for p in pairs if halves[str(p["paper"])] == k], crossfit / f"h{k}") for k in (0, 1))]
        for subset, target in jobs:
            write_pairs(subset, out / "encoder_pairs.jsonl")
            fine_tune(out / "encoder_pairs.jsonl", target, default_encoder_path(), epochs=args.encoder_epochs,
                      device=args.device, seed=args.seed)
        (out / "encoder_pairs.jsonl").unlink()
        args.crossfit = crossfit
    shipped = default_ranker_path().parent
    if not (out / ADAPTER_FILE).is_file() and (shipped / ADAPTER_FILE).is_file():
        for name in (ADAPTER_FILE, ADAPTER_META):
            shutil.copy2(shipped / name, out / name)
    return out if (out / ADAPTER_FILE).is_file() else None


def small_corpus_warning(queries: int, papers: int, output: Path) -> str | None:
    """A warning when the new ranker learned from far fewer citations than the shipped one, else None.

    Why: measured on shared/train (MODEL_CARD.md, "Training on your own papers"), a ranker fitted on an author's
    other one or two papers ranked that author's next paper much worse than one fitted on fifty papers by others
    (21.8% against 35.8% hit@1), and the shipped ranker still gains about two points per doubling of its data. A
    user who trains on a few papers of their own should not swap the shipped ranker for a worse one unknowingly.
    """
    from startref.citations.ranker import default_ranker_path

    try:
        meta = json.loads(default_ranker_path().read_text(encoding="utf-8")).get("meta", {})
        shipped_queries, shipped_papers = int(meta["train_queries"]), int(meta["papers"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if queries * 2 >= shipped_queries:
        return None
    return (
        f"warning: this ranker learned from {queries} citations of {papers} papers, the shipped one from "
        f"{shipped_queries} of {shipped_papers}. Fitted on so few, a ranker usually ranks worse than the shipped "
        f"one, even on papers by the same author (MODEL_CARD.md, \"Training on your own papers\"): compare the two "
        f"with `startref eval PAPER.tex` and `startref eval PAPER.tex --model-dir {output}` before using it."
    )


def _papers_from(path: Path) -> list[str]:
    """The paper names a ``training.json`` lists."""
    from startref.citations.errors import StartrefError

    try:
        papers = json.loads(path.read_text(encoding="utf-8"))["papers"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StartrefError(f"{path}: not a training.json with a list of papers ({exc})") from exc
    if not isinstance(papers, list) or not all(isinstance(p, str) for p in papers):
        raise StartrefError(f"{path}: \"papers\" must be a list of paper names")
    return papers


def _run_trees(args: argparse.Namespace, encoder: Any, progress: Any) -> int:
    from startref.citations.tree_training import TreeOptions, train_tree_ensemble

    options = TreeOptions(rounds=args.tree_rounds, weight=args.tree_weight, top_k=args.top_k, seed=args.seed)
    _, papers, queries = train_tree_ensemble(
        args.corpus, args.output, encoder, args.base, options, max_cases_per_paper=args.max_cases,
        drafting_share=args.drafting_share, cache_dir=args.cache, progress=progress,
        extra_meta={"crossfit": str(args.crossfit)} if args.crossfit else None,
    )
    print(f"trees fitted on {queries} citations from {papers} papers over {args.base / 'ranker.json'} "
          f"-> {args.output / 'ranker.json'}")
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Train and print the learned weights."""
    from startref.citations.encoder import load_encoder
    from startref.citations.training import FitOptions, crossfit_encoders, train_ranker

    def progress(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    from startref.citations.errors import StartrefError

    if not 0.0 <= args.drafting_share <= 1.0:
        raise StartrefError(f"--drafting-share {args.drafting_share}: must be between 0 and 1")
    only = _papers_from(args.papers_from) if args.papers_from else None
    if args.ranker == "trees" and (args.base is None or only is not None or args.encoder_epochs):
        raise StartrefError("--ranker trees needs --base MODEL_DIR (a trained ranker) and learns from every paper of "
                            "the corpus with that ranker's encoder adapter (no --papers-from, no --encoder-epochs)")
    adapter = _adapter(args, progress)
    encoder = crossfit_encoders(args.crossfit, args.encoder) if args.crossfit else load_encoder(args.encoder, adapter=adapter)
    if args.ranker == "trees":
        return _run_trees(args, encoder, progress)
    options = FitOptions(kind=args.ranker, l2=args.l2, hidden=args.hidden, steps=args.steps, members=args.members,
                         seed=args.seed)
    result = train_ranker(
        args.corpus, args.output, encoder, options, max_cases_per_paper=args.max_cases, progress=progress,
        extra_meta={"crossfit": str(args.crossfit)} if args.crossfit else None,
        cache_dir=args.cache, drafting_share=args.drafting_share, only=only,
    )
    print(f"trained on {result.queries} citations from {result.papers} papers -> {args.output / 'ranker.json'}")
    warning = small_corpus_warning(result.queries, result.papers, args.output)
    if warning:
        print(warning, file=sys.stderr)
    print("how much each signal moves the score of the right entry, on average over the training citations:")
    for name, value in sorted(result.importance.items(), key=lambda kv: -abs(kv[1])):
        print(f"  {name:<20} {value:+.3f}")
    return EXIT_OK
