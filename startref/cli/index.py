"""``startref index``: what startref sees in a bibliography — entries, duplicate keys, parse problems.

Why a command: when an entry is "never proposed", the answer is usually a broken block or a duplicate key in the
.bib. Problems are listed compiler style (``file:line: kind: message``) so an editor can jump to them; they are
reported, not fatal (exit 0). Only when no file can be read at all is it exit 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from startref.cli.errors import EXIT_NOTHING_FOUND, EXIT_OK, CliError, print_error
from startref.cli.output import format_table, print_json

__all__ = ["register", "run", "load_readable"]


def register(subparsers: Any) -> None:
    """Add ``index`` to the ``startref`` parser."""
    parser = subparsers.add_parser(
        "index",
        help="entries, duplicate keys and parse problems of .bib files",
        description="Parse .bib files as startref does and report entries, duplicate keys and every problem with "
        "its file:line. Problems do not change the exit code (0); exit 1 when no entry was found, 2 when no file could be read.",
    )
    parser.add_argument("bib", nargs="+", metavar="FILE.bib", help="bibliography files, in \\bibliography order")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")
    parser.set_defaults(func=run)


def load_readable(paths: list[Path]) -> tuple[Any, list[str]]:
    """Index every file that can be read; the others become error messages (``(index, errors)``).

    Raises ``CliError`` when none can be read, so the command exits 2 with every reason listed.
    """
    from startref.citations.bibindex import load_bibliography
    from startref.citations.errors import BibliographyError

    readable: list[Path] = []
    errors: list[str] = []
    for path in paths:
        try:
            load_bibliography([path])
        except BibliographyError as error:
            errors.append(str(error))
            continue
        readable.append(path)
    if not readable:
        raise CliError("; ".join(errors) if errors else "no bibliography given", code="bibliography_not_found")
    return load_bibliography(readable), errors


def run(args: argparse.Namespace) -> int:
    """Describe the readable files; unreadable ones are reported on stderr (and in the JSON)."""
    from startref.citations.bibindex import describe_index

    index, errors = load_readable([Path(p) for p in args.bib])
    info = describe_index(index)
    if args.json:
        info = dict(info)
        info["unreadable"] = errors
        print_json(info)
        return EXIT_OK if info.get("entries") else EXIT_NOTHING_FOUND
    for message in errors:
        print_error(message)
    types = info.get("entry_types", {})
    rows = [("files", ", ".join(info.get("files", [])))]
    rows.append(("entries", str(info.get("entries", 0))))
    if types:
        rows.append(("types", ", ".join(f"{t} {n}" for t, n in types.items())))
    for label, key in (("with DOI", "with_doi"), ("with arXiv id", "with_arxiv"), ("with abstract", "with_abstract")):
        if key in info:
            rows.append((label, str(info[key])))
    duplicates = info.get("duplicate_keys", [])
    rows.append(("duplicate keys", f"{len(duplicates)}" + (f": {', '.join(duplicates)}" if duplicates else "")))
    problems = info.get("problems", [])
    rows.append(("problems", str(len(problems))))
    for line in format_table(("", ""), rows)[1:]:
        print(line)
    if problems:
        print()
        for problem in problems:
            print(f"{problem['file']}:{problem['line']}: {problem['kind']}: {problem['message']}")
    return EXIT_OK if info.get("entries") else EXIT_NOTHING_FOUND
