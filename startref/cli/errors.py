"""Exit codes and the one place where errors become a line on stderr.

Why: a user who mistypes a path must read ``startref: error: paper.tex: no such file`` and get exit code 2, not
a Python traceback; a script must be able to tell "bad input" (2) from "ran fine but found nothing" (1). Every
command runs through :func:`run_command`, so the mapping is written once.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

__all__ = [
    "print_error",
    "EXIT_OK",
    "EXIT_NOTHING_FOUND",
    "EXIT_BAD_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_CODES_HELP",
    "CliError",
    "located",
    "run_command",
]

EXIT_OK = 0
EXIT_NOTHING_FOUND = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """exit codes:
  0    success (annotate with nothing to fill and index with reported problems are successes too)
  1    ran, but found nothing: suggest returned no candidate, eval found no citation to test,
       index found no entry; check found a problem at or above --fail-on (default: error)
  2    bad input or usage: missing/unreadable/binary file, cursor outside the text, missing or empty
       bibliography, unknown model, refused output path; the message names the file (and line)
  130  interrupted (Ctrl-C); nothing is left half-written"""


class CliError(Exception):
    """A user-facing error found by the CLI itself (e.g. ``-o`` equal to the input); shown as is, exit 2."""

    def __init__(self, message: str, code: str = "bad_input") -> None:
        super().__init__(message)
        self.code = code


def located(error: BaseException | str, path: str | Path | None) -> str:
    """The error's message, prefixed with ``path`` unless the message already names that file.

    Engine errors about the *bibliography* already name the .bib; errors about a cursor or a decode may only know
    the text, so the CLI adds the .tex it read.
    """
    message = str(error)
    if path is None:
        return message
    shown = str(path)
    if shown in message or (Path(shown).name and Path(shown).name in message):
        return message
    return f"{shown}: {message}"


def _user_error_types() -> tuple[type[BaseException], ...]:
    """The exception classes whose messages are written for users (imported lazily: the engine may be absent)."""
    types: list[type[BaseException]] = [CliError]
    try:
        from startref.citations.errors import StartrefError

        types.append(StartrefError)
    except ImportError:  # pragma: no cover - the package always ships errors.py
        pass
    try:
        from startref.latex.errors import LatexInputError

        types.append(LatexInputError)
    except ImportError:
        pass
    return tuple(types)


def _os_error_message(error: OSError) -> str:
    """``paper.tex: No such file or directory`` rather than ``[Errno 2] No such file or directory: 'paper.tex'``."""
    reason = error.strerror or str(error)
    if error.filename is not None:
        return f"{error.filename}: {reason}"
    return reason


def print_error(message: str, stream: TextIO | None = None) -> None:
    """Write ``startref: error: <message>`` the way argparse does for usage errors."""
    print(f"startref: error: {message}", file=stream or sys.stderr)


def run_command(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run one command, turning user errors into a message plus exit code instead of a traceback.

    Programming errors (anything not listed here) still raise, so bugs stay visible in tests and bug reports.
    """
    user_errors = _user_error_types()
    try:
        return func(args)
    except user_errors as error:
        # LaTeX input errors (cursor, decoding) may only know the text: name the document the user gave.
        # Bibliography and model errors already name their file, so they are shown as they are.
        name = type(error).__name__
        print_error(located(error, getattr(args, "input", None)) if name == "LatexInputError" else str(error))
        return EXIT_BAD_INPUT
    except OSError as error:
        if isinstance(error, BrokenPipeError):
            # `startref suggest ... | head`: the reader went away; not an error of ours.
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            except (OSError, ValueError):
                pass
            return EXIT_OK
        print_error(_os_error_message(error))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("\nstartref: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
