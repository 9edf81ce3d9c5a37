"""The document an audit reads: every file of it flattened into one text, with a way back to each file's lines.

Why flatten: a mis-citation is judged with the same query as ``startref eval`` builds, and that query needs the
whole document before the cite (its earlier citations are the history), across ``\\input``/``\\include`` files.
Why the way back: a finding must point at ``chapters/two.tex:14:22``, where the user can fix it, not at an offset
of a text that exists nowhere on disk.
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass, field
from pathlib import Path

from startref.citations.audit.findings import Location
from startref.latex.cites import CiteCommand, find_cites
from startref.latex.commands import CiteSyntax, syntax_with_user_wrappers
from startref.filerules import ANY_FILE, FileRules
from startref.latex.discovery import find_root
from startref.latex.flatten import FlatDocument, FlatPiece, flatten_document

__all__ = ["AuditDocument", "load_document", "document_from_text", "NOCITE_SYNTAX"]

#: ``\nocite{key}`` puts an entry in the reference list without citing it anywhere: its keys must exist (undefined
#: key) and count as used (unused entry), but it has no sentence to judge.
NOCITE_SYNTAX = CiteSyntax(commands=frozenset({"nocite"}))


@dataclass
class AuditDocument:
    """A flattened document, its cite and ``\\nocite`` commands, and the files they came from.

    ``shown`` maps each file to the name findings use for it (relative to the working directory for the CLI,
    absolute for the server, whose clients do not share its working directory).
    """

    root: Path
    path: Path | None
    flat: FlatDocument
    cites: list[CiteCommand]
    nocites: list[CiteCommand]
    shown: dict[Path, str] = field(default_factory=dict)
    _line_starts: dict[Path, list[int]] = field(default_factory=dict, repr=False)

    @property
    def text(self) -> str:
        return self.flat.text

    @property
    def files(self) -> list[str]:
        """The .tex files of the document, root first, as findings name them."""
        return [self.name(f) for f in self.flat.files]

    def name(self, file: Path) -> str:
        return self.shown.get(file) or str(file)

    def _line_col(self, file: Path, offset: int) -> tuple[int, int]:
        starts = self._line_starts.get(file)
        if starts is None:
            text = self.flat.sources.get(file, "")
            starts = [0]
            pos = text.find("\n")
            while pos >= 0:
                starts.append(pos + 1)
                pos = text.find("\n", pos + 1)
            self._line_starts[file] = starts
        k = bisect.bisect_right(starts, offset) - 1
        return k + 1, offset - starts[k] + 1

    def location(self, start: int, end: int | None = None) -> Location:
        """The file, line and column of the flat-text span ``start:end`` (an end in another file is cut to the
        start's line end: a span never crosses files)."""
        file, off = self.flat.locate(start)
        end = start if end is None else max(end, start)
        end_file, end_off = self.flat.locate(max(start, end - 1)) if end > start else (file, off)
        if end > start:
            end_off += 1
        if end_file != file:
            text = self.flat.sources.get(file, "")
            eol = text.find("\n", off)
            end_off = len(text) if eol < 0 else eol
        line, col = self._line_col(file, off)
        end_line, end_col = self._line_col(file, end_off)
        return Location(self.name(file), line, col, end_line, end_col, off, end_off)


def _shown_names(flat: FlatDocument, given: tuple[Path, str] | None, relative_to: Path | None) -> dict[Path, str]:
    """How each file is named in findings: as the user typed the file they gave; others relative to
    ``relative_to`` (the working directory of a user who typed a relative path), else absolute."""
    shown: dict[Path, str] = {}
    for file in flat.files:
        if given is not None and os.path.abspath(given[0]) == str(file):
            shown[file] = given[1]
        elif relative_to is not None:
            shown[file] = os.path.relpath(file, relative_to)
        else:
            shown[file] = str(file)
    return shown


def _commands(flat: FlatDocument) -> tuple[list[CiteCommand], list[CiteCommand]]:
    syntax = syntax_with_user_wrappers(flat.text)
    return find_cites(flat.text, syntax), find_cites(flat.text, NOCITE_SYNTAX)


def load_document(path: str | Path, text: str | None = None, relative_to: Path | None = None,
                  rules: FileRules = ANY_FILE) -> AuditDocument:
    """The document ``path`` belongs to (its ``% !TEX root``), flattened from the root; ``text`` is an unsaved
    buffer of ``path``; ``rules`` decide which files may be read (the server's). Raises ``LatexInputError`` naming
    the file when the root cannot be read."""
    given = Path(path)
    root = find_root(given, text, rules)
    override = (given, text) if text is not None else None
    flat = flatten_document(root, override=override, rules=rules)
    cites, nocites = _commands(flat)
    shown = _shown_names(flat, (given, str(path)), relative_to)
    return AuditDocument(root, given, flat, cites, nocites, shown)


def document_from_text(text: str, name: str = "<text>") -> AuditDocument:
    """A one-file document from a buffer that has no file on disk (inputs are not followed)."""
    file = Path(name)
    flat = FlatDocument(text=text, files=[file], pieces=[FlatPiece(0, len(text), file, 0)], sources={file: text})
    cites, nocites = _commands(flat)
    return AuditDocument(file, None, flat, cites, nocites, {file: name})
