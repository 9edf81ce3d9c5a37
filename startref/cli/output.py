"""Printing shared by the commands: aligned tables for people, JSON for machines, progress on stderr.

Why here: every command prints the same three kinds of thing, and the rules (results on stdout, chatter and
progress on stderr, progress bars only when stderr is a terminal) should hold for all of them without each
command re-deciding.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

__all__ = [
    "print_json",
    "format_table",
    "print_table",
    "warn",
    "note",
    "shorten",
    "terminal_width",
    "progress_callback",
]


def print_json(obj: Any, stream: TextIO | None = None) -> None:
    """Pretty, stable JSON (keys in insertion order, non-ASCII kept) followed by a newline."""
    out = stream or sys.stdout
    out.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str))
    out.write("\n")


def warn(message: str) -> None:
    """A warning for the user on stderr (``startref: warning: ...``); never mixed into stdout results."""
    print(f"startref: warning: {message}", file=sys.stderr)


def note(message: str) -> None:
    """An informational line on stderr (what was written, what was skipped)."""
    print(f"startref: {message}", file=sys.stderr)


def shorten(text: str, width: int) -> str:
    """One line of at most ``width`` characters, cut with an ellipsis (titles and author lists can be long)."""
    flat = " ".join(str(text).split())
    if width <= 0:
        return ""
    if len(flat) <= width:
        return flat
    return flat[: max(width - 1, 0)] + "…"


def format_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    right: Sequence[int] = (),
    max_widths: dict[int, int] | None = None,
) -> list[str]:
    """Lines of a plain aligned table; ``right`` lists the column indexes aligned right (numbers).

    ``max_widths`` caps a column (cells are shortened with an ellipsis); the last column is never padded so lines
    carry no trailing spaces.
    """
    caps = max_widths or {}
    cells = [[shorten(str(cell), caps.get(i, 10_000)) for i, cell in enumerate(row)] for row in rows]
    head = [str(h) for h in headers]
    widths = [len(h) for h in head]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(values: Sequence[str]) -> str:
        parts = []
        for i, value in enumerate(values):
            last = i == len(values) - 1
            if i in right:
                parts.append(value.rjust(widths[i]))
            else:
                parts.append(value if last else value.ljust(widths[i]))
        return "  ".join(parts).rstrip()

    return [line(head)] + [line(row) for row in cells]


def print_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    right: Sequence[int] = (),
    max_widths: dict[int, int] | None = None,
    stream: TextIO | None = None,
) -> None:
    """Print :func:`format_table` to ``stream`` (stdout by default)."""
    out = stream or sys.stdout
    for text in format_table(headers, rows, right=right, max_widths=max_widths):
        print(text, file=out)


def terminal_width(default: int = 120) -> int:
    """Width to lay tables out for; generous when stdout is not a terminal (pipes, files)."""
    if sys.stdout.isatty():
        return shutil.get_terminal_size((default, 24)).columns
    return default


@contextmanager
def progress_callback(description: str, unit: str = "cite") -> Iterator[Callable[[int, int], None] | None]:
    """A ``progress(done, total)`` callback drawing a tqdm bar on stderr, or ``None`` when stderr is no terminal
    (``STARTREF_PROGRESS=1`` asks for the bar anyway, ``0`` never draws one).

    Why only on a TTY: bars in a CI log or a captured stderr are noise, and scripts parse stderr messages.
    """
    asked = os.environ.get("STARTREF_PROGRESS", "")
    if asked == "0" or (asked != "1" and not sys.stderr.isatty()):
        yield None
        return
    from tqdm import tqdm

    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=description, file=sys.stderr, leave=False, unit=unit)
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()
