"""``startref eval``: leave-one-out accuracy of the ranking on a paper's own citations.

The protocol lives in ``startref.citations.evaluation``; this command only shows its numbers (hit@1, hit@5,
MRR, latency percentiles) as a table, or everything, per case included, as JSON.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from startref.cli.common import (
    add_bib_option,
    add_engine_options,
    add_json_option,
    bib_paths,
    make_engine,
    positive_int,
    read_source,
)
from startref.cli.library_options import add_library_options, prepare_library
from startref.cli.errors import EXIT_NOTHING_FOUND, EXIT_OK
from startref.cli.output import print_json, print_table, progress_callback, warn

__all__ = ["register", "run", "format_summary"]


def register(subparsers: Any) -> None:
    """Add ``eval`` to the ``startref`` parser."""
    parser = subparsers.add_parser(
        "eval",
        help="leave-one-out accuracy on a paper's own citations",
        description="For each citation in the paper, hide it and rank the paper's bibliography from the text "
        "around it; report hit@1, hit@5, MRR and latency. Exit 1 when the paper has no citation to test.",
    )
    parser.add_argument("input", metavar="FILE.tex", help="the paper's main LaTeX file")
    parser.add_argument(
        "--max-cases", type=positive_int, metavar="N", help="evaluate at most N citations, spread over the paper"
    )
    add_bib_option(parser)
    add_json_option(parser)
    add_engine_options(parser)
    add_library_options(parser, append=False)
    parser.set_defaults(func=run)


def _percent(value: Any) -> str:
    return f"{100.0 * float(value):.1f}%" if isinstance(value, (int, float)) else "-"


def _number(value: Any, digits: int = 3) -> str:
    return f"{float(value):.{digits}f}" if isinstance(value, (int, float)) else "-"


def format_summary(path: str, summary: dict[str, Any]) -> None:
    """One aligned row of the metrics people look at."""
    print_table(
        ("paper", "cases", "hit@1", "hit@5", "MRR", "p50 ms", "p95 ms"),
        [
            (
                path,
                summary.get("cases", 0),
                _percent(summary.get("hit@1")),
                _percent(summary.get("hit@5")),
                _number(summary.get("mrr")),
                _number(summary.get("p50_ms"), 1),
                _number(summary.get("p95_ms"), 1),
            )
        ],
        right=(1, 2, 3, 4, 5, 6),
    )


def run(args: argparse.Namespace) -> int:
    """Evaluate the paper and print the metrics; exit 1 when there was nothing to evaluate."""
    path = Path(args.input)
    bibs = bib_paths(args)
    read_source(path)  # a clear error (and encoding warning) for a bad file before models load
    from startref.citations.evaluation import evaluate_document

    engine = make_engine(args)
    prepare_library(engine)
    library, why_not = engine.library_or_warning()
    if why_not:
        warn(why_not)
    with progress_callback(f"eval {path.name}") as progress:
        if library is not None:
            from startref.citations.library.evaluation import evaluate_with_library

            report = evaluate_with_library(engine, library, path, bib=bibs, progress=progress, max_cases=args.max_cases)
        elif args.max_cases is None:
            report = evaluate_document(engine, path, bib=bibs, progress=progress)
        else:
            report = evaluate_document(engine, path, bib=bibs, progress=progress, max_cases=args.max_cases)
    summary = report.summary()
    if library is not None and report.cases:
        summary["library_entries"] = len(library)
        summary["top_in_bib"] = sum(1 for c in report.cases if c.get("top_in_bib")) / len(report.cases)
    if args.json:
        print_json({"file": str(path), "summary": summary, "cases": list(report.cases)})
    else:
        format_summary(str(path), summary)
        if "top_in_bib" in summary:
            print(f"with your library ({summary['library_entries']} entries): the top suggestion was an entry of the "
                  f"paper's .bib in {100 * summary['top_in_bib']:.1f}% of the cases (the right one always is)")
    return EXIT_OK if summary.get("cases", 0) else EXIT_NOTHING_FOUND
