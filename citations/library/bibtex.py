"""Writing one entry as BibTeX text in the style of the file it goes into.

Why a module of its own: an entry taken from a library (a big .bib or Zotero) is appended to the user's paper
.bib, which they edit by hand and keep under version control. The new entry should look like its neighbours
(indentation, ``key = {value}`` spacing, line endings) and survive the file's encoding: a Latin-1 file gets LaTeX
accents (``{\\"u}``) for characters Latin-1 cannot hold, never mojibake.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["BibStyle", "detect_style", "render_entry", "latex_escape_for", "DROPPED_FIELDS"]

#: Fields a personal library keeps for itself and a paper's .bib does not want (attachments, notes, reading
#: status); the rest is copied as it is.
DROPPED_FIELDS = frozenset({"file", "abstract", "annote", "annotation", "mendeley-tags", "owner", "timestamp",
                            "groups", "readstatus", "ranking", "priority", "qualityassured", "date-added",
                            "date-modified", "bdsk-url-1", "bdsk-file-1"})

#: The order fields are written in (then the rest, alphabetically), as BibTeX styles and most exports do.
_ORDER = ("author", "editor", "title", "booktitle", "journal", "journaltitle", "series", "volume", "number",
          "pages", "year", "month", "date", "publisher", "address", "organization", "school", "institution",
          "edition", "note", "howpublished", "eprint", "archiveprefix", "eprinttype", "primaryclass", "doi", "isbn",
          "issn", "url", "urldate")


@dataclass(frozen=True)
class BibStyle:
    """How the target file writes its entries: field indentation, ``=`` spacing, line ending, and ``align``: the
    width field names are padded to when the file lines its ``=`` up in one column (0: not aligned)."""

    indent: str = "  "
    equals: str = " = "
    newline: str = "\n"
    align: int = 0


_FIELD_LINE = re.compile(r"^([ \t]+)([A-Za-z][\w:.+-]*)([ \t]*)=([ \t]*)[{\"\w]", re.MULTILINE)


def detect_style(text: str) -> BibStyle:
    """The style of the first field lines of ``text`` (a .bib file's content); defaults for an empty file."""
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    newline = "\r\n" if crlf > lf else "\n"
    seen: list[tuple[str, int, str, str]] = []
    for m in _FIELD_LINE.finditer(text):
        seen.append((m.group(1), len(m.group(2)), m.group(3), m.group(4)))
        if len(seen) >= 300:
            break
    if not seen:
        return BibStyle(newline=newline)
    common = lambda values: max(set(values), key=values.count)  # noqa: E731
    indent = common([s[0] for s in seen])
    after = common([s[3] for s in seen])
    columns = [s[1] + len(s[2]) for s in seen]
    column = common(columns)
    lengths = {s[1] for s in seen}
    if len(lengths) > 1 and columns.count(column) >= 0.8 * len(columns) and any(s[2] for s in seen):
        return BibStyle(indent=indent, equals="=" + after, newline=newline, align=column)
    before = common([s[2] for s in seen])
    return BibStyle(indent=indent, equals=f"{before}={after}", newline=newline)


#: Characters with a LaTeX spelling that is not an accent on a base letter.
_SPECIAL = {"ß": "{\\ss}", "æ": "{\\ae}", "Æ": "{\\AE}", "œ": "{\\oe}", "Œ": "{\\OE}", "ø": "{\\o}", "Ø": "{\\O}",
            "ł": "{\\l}", "Ł": "{\\L}", "å": "{\\aa}", "Å": "{\\AA}", "ı": "{\\i}", "–": "--", "—": "---",
            "“": "``", "”": "''", "‘": "`", "’": "'", "\u00a0": "~"}
_ACCENTS = {"\u0301": "'", "\u0300": "`", "\u0302": "^", "\u0308": '"', "\u0303": "~", "\u0304": "=", "\u0307": ".",
            "\u030c": "v", "\u0306": "u", "\u030b": "H", "\u0327": "c", "\u0328": "k", "\u030a": "r"}


def latex_escape_for(text: str, encoding: str) -> str:
    """``text`` with every character ``encoding`` cannot write spelled in LaTeX (``ł`` -> ``{\\l}``, ``ő`` ->
    ``{\\H{o}}``). Raises ``UnicodeEncodeError`` for a character that has no such spelling."""
    try:
        text.encode(encoding)
        return text
    except UnicodeEncodeError:
        pass
    out: list[str] = []
    for ch in text:
        try:
            ch.encode(encoding)
            out.append(ch)
            continue
        except UnicodeEncodeError:
            pass
        if ch in _SPECIAL:
            out.append(_SPECIAL[ch])
            continue
        parts = unicodedata.normalize("NFD", ch)
        base, marks = parts[:1], parts[1:]
        if base and len(marks) == 1 and marks in _ACCENTS:
            mark = _ACCENTS[marks]
            base_tex = "\\i" if base == "i" else base
            out.append(f"{{\\{mark}{{{base_tex}}}}}" if mark.isalpha() else f"{{\\{mark}{base_tex}}}")
            continue
        raise UnicodeEncodeError(encoding, text, text.index(ch), text.index(ch) + 1,
                                 f"character {ch!r} has no LaTeX spelling and the file's encoding cannot hold it")
    return "".join(out)


def _balanced(value: str) -> bool:
    depth = 0
    for ch in value:
        depth += 1 if ch == "{" else -1 if ch == "}" else 0
        if depth < 0:
            return False
    return depth == 0


def render_entry(entry_type: str, key: str, fields: Mapping[str, str], style: BibStyle = BibStyle(),
                 encoding: str = "utf-8", drop: Sequence[str] | frozenset[str] = DROPPED_FIELDS) -> str:
    """One ``@type{key, field = {value}, ...}`` block in ``style``, ending with a newline."""
    names = [n for n in fields if n not in drop and str(fields[n]).strip()]
    ordered = [n for n in _ORDER if n in names] + sorted(n for n in names if n not in _ORDER)
    nl = style.newline
    lines = [f"@{entry_type}{{{key},"]
    for i, name in enumerate(ordered):
        value = " ".join(str(fields[name]).split())
        if not _balanced(value):
            value = value.replace("{", "").replace("}", "")
        value = latex_escape_for(value, encoding)
        comma = "," if i < len(ordered) - 1 else ""
        pad = " " * max(1, style.align - len(name)) if style.align else ""
        lines.append(f"{style.indent}{name}{pad}{style.equals}{{{value}}}{comma}")
    lines.append("}")
    return nl.join(lines) + nl
