"""Entry point of the ``startref`` console script: builds the parser from a registry of command modules.

Why a registry: each command lives in its own small module exposing ``register(subparsers)``; adding a command
(e.g. ``train``) is one new module plus one line in :data:`COMMANDS`, and ``main.py`` never grows.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from startref import __version__
from startref.cli.errors import EXIT_CODES_HELP, EXIT_INTERRUPTED, run_command

__all__ = ["COMMANDS", "build_parser", "main"]

#: Command modules under ``startref.cli``, in the order ``--help`` lists them. Each defines
#: ``register(subparsers: argparse._SubParsersAction) -> None`` and sets ``func`` on its parser.
COMMANDS: tuple[str, ...] = (
    "suggest",
    "annotate",
    "eval",
    "check",
    "index",
    "serve",
    "lsp",
    "train",
    "doctor",
    "config",
)


def build_parser() -> argparse.ArgumentParser:
    """The full ``startref`` parser with every registered command."""
    parser = argparse.ArgumentParser(
        prog="startref",
        description="A citation co-pilot for LaTeX: rank entries of your own .bib for a spot in your paper and "
        "insert \\cite{key}.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"startref {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name in COMMANDS:
        module = importlib.import_module(f"startref.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``startref`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(list(argv) if argv is not None else None)
        except SystemExit as stop:  # argparse: --help, --version (0) or a usage error (2)
            return int(stop.code or 0)
        if getattr(args, "func", None) is None:
            parser.print_help(sys.stderr)
            return 2
        return run_command(args.func, args)
    except KeyboardInterrupt:
        print("\nstartref: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
