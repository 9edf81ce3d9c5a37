"""From the bytes (or text) of a .bib file to the text we parse: per-line decoding and one rule for binary junk.

Why per line: a 3,000-entry UTF-8 bibliography with one stray Latin-1 byte used to be re-decoded whole as
Latin-1, so every UTF-8 key and title was garbled (``Schönrich2009`` proposed as ``SchÃ¶nrich2009``, a key that is
not in the file). Here each line that is valid UTF-8 is decoded as UTF-8, byte-identical to the file; only a line
that is not is read as Latin-1, reported with its number, and remembered (``latin1_lines``) so the index never
proposes a non-ASCII key read from such a line (it could not be byte-identical to the file).

Why one junk rule: binary data (a PDF fragment pasted in, a truncated download) used to refuse the whole file when
it sat in the first 64 KB, pass with a warning after it, and become garbage entries when sent as ``bib_text``.
Now, wherever it sits and however the bibliography arrives, a line holding control characters that no BibTeX
file contains (NUL, and the other C0 controls but tab, newline, carriage return, form feed and escape) or a lone
surrogate is *junk* (``_is_junk`` has the exact rule): it is blanked (its newline kept, so every line number
stays true) and reported as one ``binary_data`` problem per run of junk lines. The entries around it parse as
usual.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

__all__ = ["DecodedBib", "decode_bib_bytes", "clean_bib_text", "MAX_LINE_PROBLEMS"]

#: At most this many lines are reported one by one per kind; the rest are summed up in one more problem.
MAX_LINE_PROBLEMS = 20

_JUNK_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\ud800-\udfff]")


@dataclass(frozen=True)
class DecodedBib:
    """The text to parse, what went wrong as ``(line, kind, message)`` (1-based lines), and the lines read as
    Latin-1 (1-based) whose non-ASCII keys must not be proposed."""

    text: str
    problems: tuple[tuple[int, str, str], ...] = ()
    latin1_lines: frozenset[int] = frozenset()
    junk_lines: frozenset[int] = frozenset()


def _runs(lines: list[int]) -> list[tuple[int, int]]:
    """Sorted line numbers grouped into (first, last) runs of consecutive lines."""
    runs: list[tuple[int, int]] = []
    for n in lines:
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


def _capped(problems: list[tuple[int, str, str]], kind: str, what: str) -> list[tuple[int, str, str]]:
    if len(problems) <= MAX_LINE_PROBLEMS:
        return problems
    rest = problems[MAX_LINE_PROBLEMS:]
    return problems[:MAX_LINE_PROBLEMS] + [
        (rest[0][0], kind, f"{len(rest)} more {what} (the first of them at line {rest[0][0]})")]


def _is_junk(line: str) -> bool:
    """NUL or a lone surrogate anywhere, or control characters that are not a rare slip (at least two, and at
    least 1% of the line). A single stray control in a long line is a typo seen in real files (``\v{Z}`` written
    through a string escape becomes a vertical tab), not junk: that line is kept."""
    found = _JUNK_CHARS.findall(line)
    if not found:
        return False
    if any(ch == "\x00" or "\ud800" <= ch <= "\udfff" for ch in found):
        return True
    return len(found) >= 2 and len(found) * 100 >= len(line)


def clean_bib_text(text: str) -> DecodedBib:
    """Blank the junk lines of ``text`` (see the module docstring); a text without junk is returned as it is."""
    if not _JUNK_CHARS.search(text):
        return DecodedBib(text)
    lines = text.split("\n")
    junk: list[int] = []
    for i, line in enumerate(lines):
        if _is_junk(line):
            junk.append(i + 1)
            lines[i] = "\r" if line.endswith("\r") else ""
    problems: list[tuple[int, str, str]] = []
    for first, last in _runs(junk):
        where = f"line {first}" if first == last else f"lines {first}-{last}"
        problems.append((first, "binary_data",
                         f"binary data (control characters) at {where}, not BibTeX; skipped"))
    return DecodedBib("\n".join(lines), tuple(_capped(problems, "binary_data", "runs of binary data")),
                      junk_lines=frozenset(junk))


def decode_bib_bytes(data: bytes) -> DecodedBib:
    """Decode a .bib file: UTF-8 (a BOM is dropped) line by line, Latin-1 only for the lines that are not UTF-8;
    then the junk rule of ``clean_bib_text``. Never raises."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return clean_bib_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    parts: list[str] = []
    latin1: list[int] = []
    for n, raw in enumerate(data.split(b"\n"), start=1):
        try:
            parts.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            parts.append(raw.decode("latin-1"))
            latin1.append(n)
    cleaned = clean_bib_text("\n".join(parts))
    bad = [n for n in latin1 if n not in cleaned.junk_lines]
    problems = [(n, "decoding", f"line {n} is not valid UTF-8; read as Latin-1 (save the file as UTF-8)")
                for n in bad]
    merged = sorted([*cleaned.problems, *_capped(problems, "decoding", "lines are not valid UTF-8")])
    return DecodedBib(cleaned.text, tuple(merged), frozenset(bad), cleaned.junk_lines)
