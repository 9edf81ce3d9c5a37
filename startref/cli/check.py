"""``startref check``: find the citations that are probably wrong, before a reviewer does.

The audit itself is ``startref.citations.audit``; this command reads the arguments, shows a progress bar on
stderr for long documents, prints the report in the chosen format, and turns it into an exit code: 1 when a
finding at or above ``--fail-on`` exists, 0 otherwise, 2 on bad input. It never writes a file.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from startref.cli.common import add_bib_option, bib_paths, make_engine, positive_int, read_source
from startref.cli.errors import EXIT_OK
from startref.cli.output import print_json, progress_callback, warn

__all__ = ["register", "run", "SEVERITY_CHOICES"]

SEVERITY_CHOICES = ("error", "warning", "info")
#: ``check`` found something at or above ``--fail-on`` (the code other commands use for "found nothing").
EXIT_FINDINGS = 1


def register(subparsers: Any) -> None:
    """Add ``check`` to the ``startref`` parser."""
    parser = subparsers.add_parser(
        "check",
        help="audit a paper's citations: likely wrong keys, undefined keys, duplicate or incomplete entries",
        description="Score every cited key for its own sentence (as `eval` does: only the text before keeps its "
        "citations) and report possible mis-citations with the entry that fits far better, undefined keys with "
        "the closest existing ones, entries without title/author/year, duplicate entries, one work cited under "
        "two keys, and (with --min-severity info) unused entries. Follows \\input/\\include from the root file. "
        "Exit 1 when a finding at or above --fail-on exists, 0 otherwise, 2 on bad input. Never modifies a file.",
    )
    parser.add_argument("input", metavar="FILE.tex", help="the paper (any file of it: its %% !TEX root is followed)")
    add_bib_option(parser)
    parser.add_argument("--format", choices=("text", "json", "gcc", "github", "sarif"), default=None,
                        help="output format (default: text; json is the body of POST /v1/check)")
    parser.add_argument("--json", action="store_true", help="same as --format json")
    parser.add_argument("--min-severity", choices=SEVERITY_CHOICES, default="warning",
                        help="show findings at this severity or worse (default: warning; info adds unused entries)")
    parser.add_argument("--fail-on", choices=(*SEVERITY_CHOICES, "never"), default="error",
                        help="exit 1 when a finding at this severity or worse exists (default: error)")
    parser.add_argument("--sensitivity", choices=("low", "default", "high"), default="default",
                        help="how readily a citation is called a possible mis-citation (default: default; high "
                        "finds more wrong keys and flags more right ones; see the README's measurements)")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour the text output (default: auto, on a terminal unless NO_COLOR is set)")
    parser.add_argument("--jobs", type=positive_int, metavar="N", default=None,
                        help="threads that embed the document's sentences (default: the number of cores, at most 4)")
    group = parser.add_argument_group("model options")
    group.add_argument("--device", choices=("cpu", "cuda", "mps"), default="cpu", help="where models run (default: cpu)")
    group.add_argument("--encoder", metavar="PATH", help="sentence encoder path (default: the embedded MiniLM)")
    group.add_argument("--model-dir", metavar="DIR",
                       help="trained ranker artifacts from `startref train -o DIR` (default: shipped)")
    parser.set_defaults(func=run, use_generator=False)


@contextmanager
def _progress(name: str) -> Iterator[Callable[[str, int, int], None] | None]:
    """A bar on stderr (terminal only, ``output.progress_callback``'s) for each phase: embedding, then ranking."""
    if not sys.stderr.isatty():
        yield None
        return
    with ExitStack() as stack:
        current: dict[str, Any] = {}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in current:
                stack.close()  # the previous phase's bar
                current.clear()
                current[phase] = stack.enter_context(progress_callback(f"check {name}: {phase}"))
            bar = current[phase]
            if bar is not None:
                bar(done, total)

        yield update


def run(args: argparse.Namespace) -> int:
    """Audit the document and print the report; the exit code follows ``--fail-on``."""
    from startref.citations.audit import check_document, severity_rank
    from startref.cli import check_formats

    path = Path(args.input)
    bibs = bib_paths(args)
    read_source(path)  # a clear error (and the encoding warning) for a bad file before models load
    fmt = "json" if args.json else (args.format or "text")
    engine = make_engine(args)
    jobs = args.jobs or max(1, min(4, os.cpu_count() or 1))
    with _progress(path.name) as progress:
        report = check_document(engine, path=path, bib=bibs, sensitivity=args.sensitivity, relative_to=Path.cwd(),
                                workers=jobs, progress=progress)
    shown = report.filtered(args.min_severity)
    hidden = len(report.findings) - len(shown.findings)
    if fmt == "json":
        print_json(shown.to_dict())
    elif fmt == "sarif":
        print_json(check_formats.to_sarif(shown))
    else:
        if fmt == "text":
            for message in report.warnings:
                warn(message)
            color = check_formats.use_color(args.color)
            lines = check_formats.format_text(shown, color=color, hidden=hidden)
        elif fmt == "gcc":
            lines = check_formats.format_gcc(shown)
        else:
            lines = check_formats.format_github(shown)
        for line in lines:
            print(line)
    if args.fail_on == "never":
        return EXIT_OK
    limit = severity_rank(args.fail_on)
    failing = any(severity_rank(f.severity) <= limit for f in report.findings)
    return EXIT_FINDINGS if failing else EXIT_OK
