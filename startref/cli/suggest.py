"""``startref suggest``: ranked entries of the paper's bibliography for one spot in the text.

The command only translates: LINE:COL (as editors and compilers print them) becomes a code-point offset, the
engine ranks, and the result is printed as a table (people) or as the HTTP body (``--json``, machines).
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

from startref.cli.common import (
    add_bib_option,
    add_engine_options,
    add_json_option,
    bib_paths,
    line_col,
    make_engine,
    read_source,
)
from startref.cli.errors import EXIT_NOTHING_FOUND, EXIT_OK, CliError
from startref.cli.output import print_json, print_table, terminal_width, warn

if TYPE_CHECKING:
    from startref.citations.suggestion import Suggestion

__all__ = ["register", "run", "parse_line_col", "cursor_offset", "format_suggestion"]

_LINE_COL = re.compile(r"^\s*(\d+)\s*[:.,]\s*(\d+)\s*$")


def parse_line_col(value: str) -> tuple[int, int]:
    """``"120:35"`` → ``(120, 35)``; both 1-based. An argparse ``type``, so bad values are usage errors (exit 2)."""
    match = _LINE_COL.match(value)
    if not match:
        raise argparse.ArgumentTypeError(f"expected LINE:COL (1-based, e.g. 120:35), got {value!r}")
    line, col = int(match.group(1)), int(match.group(2))
    if line < 1 or col < 1:
        raise argparse.ArgumentTypeError(f"LINE and COL are 1-based, got {value!r}")
    return line, col


def _non_negative(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a character offset, got {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"offset must be >= 0, got {number}")
    return number


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {number}")
    return number


def register(subparsers: Any) -> None:
    """Add ``suggest`` to the ``startref`` parser."""
    parser = subparsers.add_parser(
        "suggest",
        help="rank entries of your bibliography for a spot in a .tex file",
        description="Rank entries of the paper's bibliography for the cursor and show the \\cite edit to insert "
        "the best one. Exit 1 when nothing could be proposed.",
    )
    parser.add_argument("input", metavar="FILE.tex", help="the LaTeX file")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--at", type=parse_line_col, metavar="LINE:COL", help="cursor position, 1-based")
    where.add_argument("--offset", type=_non_negative, metavar="N", help="cursor as a 0-based character offset")
    parser.add_argument("-k", type=_positive, default=5, metavar="K", help="number of candidates (default: 5)")
    parser.add_argument("--command", metavar="CMD", help="cite command to insert, e.g. citep (default: the paper's)")
    add_bib_option(parser)
    add_json_option(parser)
    add_engine_options(parser)
    parser.set_defaults(func=run)


def cursor_offset(text: str, path: str, at: tuple[int, int] | None, offset: int | None) -> int:
    """The code-point offset for ``--at`` or ``--offset``, with an error naming ``path:line:col`` when outside."""
    if at is None:
        assert offset is not None
        if offset > len(text):
            raise CliError(
                f"{path}: offset {offset} is outside the text (it has {len(text)} characters)",
                code="cursor_out_of_range",
            )
        return offset
    line, col = at
    from startref.latex.errors import LatexInputError
    from startref.latex.position import offset_from_line_col

    try:
        return offset_from_line_col(text, line, col)
    except LatexInputError as error:  # re-raised with the file and the position the user typed
        code = getattr(error, "code", "cursor_out_of_range")
        raise CliError(f"{path}:{line}:{col}: cursor outside the text: {error.message}", code=code) from None


def _position(text: str, offset: int) -> str:
    line, col = line_col(text, offset)
    return f"{line}:{col}"


def format_suggestion(suggestion: Suggestion, text: str, path: str, cursor: int) -> None:
    """Print the ranked table, the unresolved generations and the edit to insert, for people."""
    bib = suggestion.bibliography
    files = ", ".join(bib.files) if bib.files else "(no file)"
    print(f"{path}:{_position(text, cursor)}  bibliography: {files} ({bib.entries} entries)")
    if suggestion.candidates:
        width = terminal_width()
        title_w = max(24, min(60, width // 3))
        rows = [
            (i, c.key, f"{c.score:.3f}", c.year or "", c.title or "", c.authors or "", c.why or "")
            for i, c in enumerate(suggestion.candidates, 1)
        ]
        print()
        print_table(
            ("rank", "key", "score", "year", "title", "authors", "why"),
            rows,
            right=(0, 2),
            max_widths={1: 30, 4: title_w, 5: 28, 6: 40},
        )
    else:
        print("\nno candidate found in the bibliography")
    if suggestion.unresolved:
        print("\nnot in your bibliography (generated by the model; possibly a missing reference):")
        for generated in suggestion.unresolved:
            print(f"  ? {generated}")
    edit = suggestion.insert
    if edit is not None:
        if edit.start == edit.end:
            print(f"\ninsert at {_position(text, edit.start)}: {edit.text}")
        else:
            print(f"\nreplace {_position(text, edit.start)}-{_position(text, edit.end)} with: {edit.text}")


def run(args: argparse.Namespace) -> int:
    """Read the file, rank, print; exit 1 when there is no candidate."""
    path = str(args.input)
    bibs = bib_paths(args)
    source = read_source(path)
    text = source.text
    cursor = cursor_offset(text, path, args.at, args.offset)
    engine = make_engine(args)
    suggestion = engine.suggest(text, cursor, path=path, bib=bibs, k=args.k, command=args.command)
    problems = suggestion.bibliography.problems
    if args.json:
        line, col = line_col(text, cursor)
        body = {"file": path, "cursor": {"offset": cursor, "line": line, "column": col}}
        body.update(suggestion.to_dict())
        print_json(body)
    else:
        for message in suggestion.warnings:
            warn(message)
        if problems:
            files = " ".join(suggestion.bibliography.files)
            warn(f"the bibliography has {len(problems)} problem(s); see `startref index {files}`")
        format_suggestion(suggestion, text, path, cursor)
    return EXIT_OK if suggestion.candidates else EXIT_NOTHING_FOUND
