"""What the features need to know about one open document: its path, its cites, and its bibliography.

Why a module of its own: completion, hover, definition, code actions and diagnostics all ask the same questions
("which key is under the cursor?", "which bibliography does this file use?"). The answers come from the layers
that already know them -- ``latex`` for cites and discovery (``% !TEX root``, ``\\input``, BIBINPUTS), the
``Engine`` for loading and caching bibliographies -- so the editor sees exactly what ``startref suggest`` sees.

The bibliography cache is keyed by file size and mtime inside ``load_bibliography``, so asking again on every
request *is* the stat check that notices a .bib saved by another program.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from startref.citations.bibindex import BibIndex, BibProblem
from startref.citations.errors import StartrefError
from startref.latex.cites import CiteCommand, find_cites
from startref.latex.commands import CiteSyntax, syntax_with_user_wrappers
from startref.latex.discovery import discover_bibliographies
from startref.latex.errors import LatexInputError

__all__ = ["KeyAt", "BibLookup", "cites_of", "key_at", "bibliography_of", "is_bib_path", "is_tex_path"]


@dataclass(frozen=True)
class KeyAt:
    """A cite key under the cursor: the key as written and its span (code points)."""

    key: str
    start: int
    end: int
    cite: CiteCommand


@dataclass
class BibLookup:
    """A document's bibliography, or why there is none.

    ``index`` is None when no bibliography could be loaded, and ``error`` then says why (named file, missing
    root); ``files`` are the .bib files discovery found (also when loading failed), ``missing`` the names the
    document writes that do not exist.
    """

    index: BibIndex | None
    files: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def problems(self) -> tuple[BibProblem, ...]:
        return self.index.problems if self.index is not None else ()


def is_bib_path(path: Path | None) -> bool:
    return path is not None and path.suffix.lower() == ".bib"


def is_tex_path(path: Path | None) -> bool:
    return path is not None and path.suffix.lower() in (".tex", ".ltx", ".latex", ".sty", ".cls", ".dtx")


def cites_of(text: str) -> tuple[CiteSyntax, list[CiteCommand]]:
    """The document's cite vocabulary (with its own wrappers) and every cite command in it."""
    syntax = syntax_with_user_wrappers(text)
    return syntax, find_cites(text, syntax)


def key_at(text: str, offset: int, cites: list[CiteCommand] | None = None) -> KeyAt | None:
    """The key whose span holds ``offset`` (its end included, so a cursor right after ``He16`` counts)."""
    if cites is None:
        cites = cites_of(text)[1]
    for cite in cites:
        if cite.start > offset:
            break
        if cite.end < offset:
            continue
        for key, (a, b) in zip(cite.keys, cite.key_spans):
            if a <= offset <= b and "#" not in key:
                return KeyAt(key, a, b, cite)
    return None


def bibliography_of(engine: Any, path: Path | None, text: str) -> BibLookup:
    """The bibliography that ``startref suggest`` would use for ``path`` with the unsaved ``text``.

    Never raises for bad input: a missing root file, a bibliography that is not found or cannot be read comes back
    as ``error`` so each feature can answer with nothing and the server can log why.
    """
    if path is None:
        return BibLookup(None, error="the document has no file path (unsaved buffer): no bibliography to find")
    try:
        found = discover_bibliographies(path, text)
    except LatexInputError as err:
        return BibLookup(None, error=str(err))
    files = [str(f) for f in found.usable]
    if not files:
        named = f" (named but not found: {', '.join(found.missing)})" if found.missing else ""
        return BibLookup(None, [], list(found.missing), error=f"{found.root}: no bibliography found from this document{named}")
    try:
        index = engine.bibliography_for(bib=files)
    except (StartrefError, LatexInputError, OSError) as err:
        return BibLookup(None, files, list(found.missing), error=str(err))
    return BibLookup(index, files, list(found.missing))
