"""Hover on a cite key: the entry (title, authors, venue, year, DOI link) and where it is defined.

A key that is not in the bibliography gets no hover: the undefined-key diagnostic already says so, with the
closest keys.
"""

from __future__ import annotations

from startref.citations.bibindex import BibIndex

from .entries import entry_markdown

__all__ = ["hover_markdown"]


def hover_markdown(index: BibIndex, key: str) -> str | None:
    """The markdown card of ``key`` (exact, case-insensitive or a biblatex alias), or None when it is unknown."""
    entry = index.get(key)
    if entry is None:
        return None
    return entry_markdown(entry)
