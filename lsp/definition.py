"""Go to definition on a cite key: the entry's line in its .bib file, with the key itself selected.

Why read the line back: the index records the line where ``@type{`` starts; pointing at the key's own columns
(when it is on that line, as it almost always is) lets an editor highlight it. Columns are code points in the
line; the protocol layer turns them into UTF-16.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from startref.citations.bibindex import BibIndex

__all__ = ["Place", "definition_of"]


@dataclass(frozen=True)
class Place:
    """A span on one line of a file: ``line`` is 0-based, columns are code points of ``line_text``."""

    file: str
    line: int
    start_col: int
    end_col: int
    line_text: str


def _line(path: Path, line: int) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle):
                if number == line:
                    return text.rstrip("\r\n")
    except OSError:
        pass
    return ""


def definition_of(index: BibIndex, key: str) -> Place | None:
    """Where ``key``'s entry is defined, or None when the key is unknown or came from inline text."""
    entry = index.get(key)
    if entry is None or not entry.file or entry.line < 1 or not Path(entry.file).is_file():
        return None
    line = entry.line - 1
    text = _line(Path(entry.file), line)
    col = text.find(entry.key, text.find("{") + 1 if "{" in text else 0)
    if col < 0:
        return Place(entry.file, line, 0, 0, text)
    return Place(entry.file, line, col, col + len(entry.key), text)
