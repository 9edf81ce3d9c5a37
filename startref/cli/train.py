"""``startref train``: learn the ranker from a folder of your own (or any) papers.

Why a command and not a script: a user's own past papers are the best training data for how *they* cite. The
result is a folder (``ranker.json`` + ``training.json``) that ``--model-dir`` selects everywhere else.
"""

from __future__ import annotations

import argparse
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
    parser.add_argument("--max-cases", type=int, default=120, help="citations sampled per paper (default 120)")
    parser.add_argument("--l2", type=float, default=1e-2, help="L2 regularisation of the weights (default 0.01)")
    parser.add_argument("--encoder", metavar="PATH", help="sentence encoder path (default: the embedded MiniLM)")
    parser.add_argument("--quiet", action="store_true", help="no per-paper progress lines")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train and print the learned weights."""
    from startref.citations.encoder import load_encoder
    from startref.citations.training import train_ranker

    def progress(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    result = train_ranker(
        args.corpus, args.output, load_encoder(args.encoder), l2=args.l2, seed=args.seed,
        max_cases_per_paper=args.max_cases, progress=progress,
    )
    print(f"trained on {result.queries} citations from {result.papers} papers -> {args.output / 'ranker.json'}")
    for name, weight in zip(result.ranker.feature_names, result.ranker.weights):
        print(f"  {name:<20} {weight:+.3f}")
    return EXIT_OK
