"""The plain result objects of a suggestion request.

Why a module of its own: the CLI, the HTTP server and the editor extension all translate *these* objects; none of
them knows how the ranking works. Field names follow the HTTP contract (``POST /v1/suggest``) so translating is a
``to_dict()`` call and the names stay stable for outside tools.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Candidate", "Edit", "BibliographySummary", "Suggestion", "AnnotateEdit", "AnnotateResult"]


@dataclass(frozen=True)
class Candidate:
    """One bibliography entry proposed for the cursor; ``key`` always exists in the bibliography."""

    key: str
    title: str
    authors: str
    year: str
    score: float
    why: str = ""
    generated: str | None = None
    #: False for an entry of the user's library that the paper's .bib lacks: choosing it also applies ``bib_edit``
    #: (``{file, start, end, line, character, text, key}``), which appends the entry to the paper's .bib.
    in_bib: bool = True
    #: Where the entry comes from: the .bib file, or ``bib:PATH`` / ``zotero:PATH`` for a library source.
    source: str = ""
    bib_edit: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Edit:
    """A text replacement: ``text[start:end] = new text``, offsets in Unicode code points."""

    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BibliographySummary:
    """Which bibliography answered, so a user can see *why* an entry is (not) proposed."""

    files: list[str]
    entries: int
    problems: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Suggestion:
    """Ranked candidates for one cursor position plus the edit that inserts the best one."""

    candidates: list[Candidate]
    insert: Edit | None
    unresolved: list[str]
    bibliography: BibliographySummary
    model: dict[str, str | None]
    timing_ms: dict[str, float]
    warnings: list[str] = field(default_factory=list)
    #: Why the LM stage was skipped (model server down, slow, or refusing); the ranking is then the ranker's alone.
    generator_error: str | None = None
    #: The second edit that goes with ``insert`` when the best candidate comes from the library: it appends the
    #: entry to the paper's .bib (editors apply both as one undoable change). ``None`` otherwise.
    bib_edit: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidates": [c.to_dict() for c in self.candidates],
            "insert": self.insert.to_dict() if self.insert else None,
            "bib_edit": self.bib_edit,
            "unresolved": list(self.unresolved),
            "bibliography": self.bibliography.to_dict(),
            "model": dict(self.model),
            "timing_ms": dict(self.timing_ms),
            "warnings": list(self.warnings),
            "generator_error": self.generator_error,
        }


@dataclass(frozen=True)
class AnnotateEdit:
    """One filled placeholder: where it was (1-based line), what replaced it, and the runners-up."""

    start: int
    end: int
    line: int
    old: str
    new: str
    candidates: list[Candidate]

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "line": self.line,
            "old": self.old,
            "new": self.new,
            "candidates": [c.to_dict() for c in self.candidates],
        }


@dataclass
class AnnotateResult:
    """The annotated text and every edit made, in text order (offsets refer to the *original* text)."""

    text: str
    edits: list[AnnotateEdit]
    bibliography: BibliographySummary
    warnings: list[str] = field(default_factory=list)
    generator_error: str | None = None
    #: Appends the library entries the edits cite to the paper's .bib (``None`` when every key was there).
    bib_edit: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "edits": [e.to_dict() for e in self.edits],
            "bib_edit": self.bib_edit,
            "bibliography": self.bibliography.to_dict(),
            "warnings": list(self.warnings),
            "generator_error": self.generator_error,
        }
