"""The bibliography's data model: one citable ``Entry`` and one ``BibProblem``, plus how raw fields become an Entry.

Why a module of its own: every feature (ranking, resolution, the LSP, the library, the audit) reads these two
frozen values, while only the indexer parses; keeping the model apart lets a reader see what an entry *is*
without wading through how a .bib file is split. ``_build_entry`` lives here because it is the one place that
decides each attribute (author text, year from ``date``, DOI and arXiv id found in any field that carries one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .normalize import find_arxiv_id, find_doi, latex_to_unicode

__all__ = ["Entry", "BibProblem", "AUTHOR_TEXT_MAX"]

#: ``author_text`` lists at most this many last names, then "et al." — enough to recognise a paper, short
#: enough for a completion menu and an embedding input.
AUTHOR_TEXT_MAX = 4


@dataclass(frozen=True)
class Entry:
    """One citable bibliography entry.

    ``fields`` holds the raw values (after @string expansion and crossref inheritance, field names lower-cased)
    for display and writing; the other attributes are decoded Unicode for matching and ranking.
    ``author_text`` is the last names joined by ", ", cut after ``AUTHOR_TEXT_MAX`` names with " et al."
    (``"Vaswani, Shazeer, Parmar, Uszkoreit et al."``); ``display_authors`` is the short form ("He et al.").
    """

    key: str
    entry_type: str
    fields: Mapping[str, str] = field(compare=False, repr=False)
    title: str = ""
    authors: tuple[str, ...] = ()
    author_text: str = ""
    year: str = ""
    venue: str = ""
    doi: str = ""
    arxiv_id: str = ""
    url: str = ""
    abstract: str = field(default="", repr=False)
    keywords: str = field(default="", repr=False)
    aliases: tuple[str, ...] = ()
    file: str = ""
    line: int = 0
    position: int = -1

    @property
    def first_author(self) -> str:
        """Last name of the first author ("" when none), the author part of a Galactica-style reference."""
        return self.authors[0] if self.authors else ""

    @property
    def display_authors(self) -> str:
        """"He", "He and Sun", or "He et al." — the usual short citation form."""
        if not self.authors:
            return ""
        if len(self.authors) == 1:
            return self.authors[0]
        if len(self.authors) == 2:
            return f"{self.authors[0]} and {self.authors[1]}"
        return f"{self.authors[0]} et al."


@dataclass(frozen=True)
class BibProblem:
    """Something wrong in a bibliography, reported with its place. ``line`` is 1-based (0: whole file)."""

    file: str
    line: int
    kind: str
    message: str
    #: The citation key the problem is about ("" when none), so no reader has to parse it out of the message.
    key: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind}: {self.message}"


def _author_text(authors: Sequence[str]) -> str:
    if len(authors) > AUTHOR_TEXT_MAX:
        return ", ".join(authors[:AUTHOR_TEXT_MAX]) + " et al."
    return ", ".join(authors)


def _entry_arxiv_id(fields: Mapping[str, str]) -> str:
    """arXiv id from the fields that carry one: eprint (arXiv), journal "arXiv preprint arXiv:…", url, doi."""
    eprint = fields.get("eprint", "")
    prefix = (fields.get("archiveprefix", "") or fields.get("eprinttype", "")).strip().lower()
    if eprint and (prefix in ("", "arxiv")):
        found = find_arxiv_id(eprint)
        if found:
            return found
    for name in ("journal", "journaltitle", "note", "howpublished", "volume", "booktitle"):
        value = fields.get(name, "")
        if "arxiv" in value.lower():
            found = find_arxiv_id(value)
            if found:
                return found
    for name in ("url", "doi", "pdf"):
        value = fields.get(name, "")
        if "arxiv" in value.lower():
            found = find_arxiv_id(value)
            if found:
                return found
    return ""


def _build_entry(key: str, entry_type: str, fields: Mapping[str, str], decoded: Mapping[str, Any], file: str,
                 line: int) -> Entry:
    authors = tuple(decoded.get("authors", ()))
    ids = fields.get("ids", "")
    doi_field = fields.get("doi", "")
    return Entry(
        key=key,
        entry_type=entry_type.lower(),
        fields=MappingProxyType(dict(fields)),
        title=str(decoded.get("title", "")),
        authors=authors,
        author_text=_author_text(authors),
        year=(fields.get("year", "") or fields.get("date", "")[:4]).strip(),
        venue=str(decoded.get("venue", "")),
        doi=find_doi(doi_field) or doi_field.strip().lower(),
        arxiv_id=_entry_arxiv_id(fields),
        url=fields.get("url", "").strip(),
        abstract=latex_to_unicode(fields.get("abstract", "")),
        keywords=latex_to_unicode(fields.get("keywords", "")),
        aliases=tuple(a.strip() for a in ids.split(",") if a.strip()),
        file=file,
        line=line,
    )
