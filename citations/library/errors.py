"""The library's one error: a source (a .bib, a Zotero database) that cannot be used at all.

It is a ``BibliographyError`` so every layer that already reports those (CLI exit 2, HTTP 400 with the file named)
handles it; the engine catches it around the library only, so the paper's own .bib keeps working.
"""

from __future__ import annotations

from startref.citations.errors import BibliographyError

__all__ = ["LibraryError"]


class LibraryError(BibliographyError):
    """A library source that cannot be read; the message names the file."""

    code = "library_unreadable"

    def __init__(self, path: str, message: str, line: int | None = None, code: str | None = None) -> None:
        super().__init__(path, message, line=line, code=code or "library_unreadable")
