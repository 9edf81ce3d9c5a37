"""Converting between character offsets and the positions editors and compilers print.

Why: every internal span is a Python string offset (code points), but a compiler says ``file:12:5`` (1-based
line and column in characters) and LSP/VS Code says ``{line: 11, character: 4}`` (0-based, *UTF-16 code units*,
so an emoji or a math-alphabet letter like 𝔸 counts 2). Getting this wrong shifts every insertion after the first
astral character, so it lives in one tested place.
"""

from __future__ import annotations

from .errors import LatexInputError

_CODE = LatexInputError.CURSOR_OUT_OF_RANGE

__all__ = [
    "offset_from_line_col",
    "offset_from_lsp",
    "line_col_from_offset",
    "line_of_offset",
    "lsp_from_offset",
]


def _line_bounds(text: str, line_index: int) -> tuple[int, int]:
    """Start and end (excluding the newline) of 0-based line ``line_index``; raises when out of range."""
    n_lines = text.count("\n") + 1
    if line_index < 0 or line_index >= n_lines:
        raise LatexInputError(f"line {line_index + 1} outside the text (it has {n_lines} lines)", code=_CODE)
    start = 0
    for _ in range(line_index):
        start = text.index("\n", start) + 1
    end = text.find("\n", start)
    if end < 0:
        end = len(text)
    if end > start and text[end - 1] == "\r":
        end -= 1
    return start, end


def offset_from_line_col(text: str, line: int, col: int) -> int:
    """Offset of 1-based ``line``/``col`` (col in characters; ``len(line) + 1`` means end of line)."""
    start, end = _line_bounds(text, line - 1)
    if col < 1 or col > end - start + 1:
        raise LatexInputError(f"column {col} outside line {line} (it has {end - start} characters)", code=_CODE)
    return start + col - 1


def offset_from_lsp(text: str, line: int, character: int) -> int:
    """Offset of an LSP position: 0-based ``line``, ``character`` in UTF-16 code units."""
    start, end = _line_bounds(text, line)
    units = 0
    offset = start
    while units < character:
        if offset >= end:
            raise LatexInputError(
                f"character {character} outside line {line + 1} (it has {units} UTF-16 code units)", code=_CODE
            )
        units += 2 if ord(text[offset]) > 0xFFFF else 1
        offset += 1
    if units != character:
        raise LatexInputError(f"character {character} of line {line + 1} falls inside a surrogate pair", code=_CODE)
    return offset


def _check_offset(text: str, offset: int) -> None:
    if offset < 0 or offset > len(text):
        raise LatexInputError(f"offset {offset} outside the text (length {len(text)})", code=_CODE)


def line_of_offset(text: str, offset: int) -> int:
    """1-based line holding ``offset`` (``len(text)`` is allowed: the end of the last line)."""
    _check_offset(text, offset)
    return text.count("\n", 0, offset) + 1


def line_col_from_offset(text: str, offset: int) -> tuple[int, int]:
    """1-based ``(line, column)`` of ``offset``, column in characters, as compilers print them."""
    _check_offset(text, offset)
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def lsp_from_offset(text: str, offset: int) -> tuple[int, int]:
    """0-based LSP ``(line, character)`` of ``offset``, character in UTF-16 code units (inverse of offset_from_lsp)."""
    _check_offset(text, offset)
    line_start = text.rfind("\n", 0, offset) + 1
    units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text[line_start:offset])
    return text.count("\n", 0, offset), units
