"""Which bibliography a request means, and how an answer describes it.

Why a module of its own: the CLI, the server and the editor name a bibliography in three ways (inline text,
files, or nothing: find it from the .tex file), and each must fail with the same codes and words (``code`` is in
the README's error table). The ``Engine`` asks this module, then only keeps note of what it has seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from startref.citations.bibindex import BibIndex, load_bibliography, parse_bib_text
from startref.citations.errors import BibliographyError
from startref.citations.suggestion import BibliographySummary
from startref.filerules import FileRules
from startref.latex.discovery import discover_bibliographies

__all__ = ["request_bibliography", "bibliography_summary"]


def request_bibliography(
    *,
    path: str | Path | None,
    text: str | None,
    bib: Sequence[str | Path] | None,
    bib_text: str | None,
    rules: FileRules,
) -> BibIndex:
    """The bibliography for a request: inline text, else named files, else discovered from the .tex file.

    ``rules`` decide which files may be read, however they are named. Raises ``BibliographyError`` (code
    ``bibliography_not_found`` or ``bibliography_empty``) when there is none or it has no usable entry.
    """
    if bib_text is not None:
        index = parse_bib_text(bib_text, "<bib_text>")
        where = "the inline bibliography (bib_text)"
    elif bib:
        index = load_bibliography(list(bib), rules)
        where = ", ".join(str(b) for b in bib)
    elif path is not None:
        found = discover_bibliographies(Path(path), text, rules=rules)
        if not found.usable:
            # A name the rules refuse and a missing one get the same words: no existence oracle.
            what = "named but not found" if not rules.suffix_only else "named but not found, or not a .bib file"
            named = f" ({what}: {', '.join(found.missing)})" if found.missing else ""
            raise _bib_error(
                str(found.root), "bibliography_not_found",
                f"no bibliography found from this document{named}; name one with --bib (or `bib` in the request)",
            )
        index = load_bibliography(found.usable, rules)
        where = ", ".join(str(f) for f in found.usable)
    else:
        raise _bib_error("<request>", "bibliography_not_found", "no bibliography given: pass a .tex path, bib files or bib_text")
    if len(index) == 0:
        first = "; ".join(str(p) for p in index.problems[:3])
        raise _bib_error(where, "bibliography_empty",
                         "the bibliography has no usable entries" + (f" ({first})" if first else ""))
    return index


def bibliography_summary(index: BibIndex) -> BibliographySummary:
    """The bibliography part of an answer (files, entries, problems)."""
    return BibliographySummary(
        files=list(index.files),
        entries=len(index),
        problems=[{"file": p.file, "line": p.line, "kind": p.kind, "message": p.message} for p in index.problems],
    )


def _bib_error(path: str, code: str, message: str) -> BibliographyError:
    return BibliographyError(path, message, code=code)
