"""What ``startref check`` reports: findings as plain data, and the report that holds them.

Why plain frozen dataclasses with ``to_dict``: the CLI prints them (text, gcc, GitHub, SARIF), the HTTP server
returns ``to_dict()`` as JSON, and the language server turns each one into a diagnostic plus a "replace with `key`"
code action. None of them should re-derive anything, so a finding carries everything: where (file, 1-based line and
column, code-point offsets into that file when known), how bad (``severity``), what (a stable ``code``), a message
written for a person, the key it is about, and the edits that would fix it (``replacements``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "SEVERITIES",
    "CODES",
    "severity_rank",
    "Location",
    "Replacement",
    "Related",
    "Finding",
    "AuditReport",
    "group_by_file",
    "worst",
]

#: Most to least severe. ``error``: the document will not build as meant (an undefined key); ``warning``: probably
#: wrong; ``info``: worth knowing (an unused entry), hidden unless asked for.
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")

#: Every finding code with its default severity and a one-line description (the README's table is this table).
CODES: Mapping[str, tuple[str, str]] = {
    "undefined_key": ("error", "a cited key is not in the bibliography"),
    "possible_miscitation": ("warning", "the cited entry fits its sentence poorly and another entry fits far better"),
    "same_work_two_keys": ("warning", "the document cites one work under two keys"),
    "duplicate_entry": ("warning", "two entries of the bibliography are the same work (DOI, arXiv id or title)"),
    "duplicate_key": ("warning", "a key is defined twice; BibTeX keeps the first"),
    "incomplete_entry": ("warning", "a cited entry has no title, author/editor or year"),
    "bib_parse_error": ("warning", "a block of the .bib could not be parsed; its entry is missing"),
    "bib_problem": ("info", "another problem in the .bib (bad crossref, duplicate field, encoding)"),
    "unused_entry": ("info", "an entry of the bibliography is never cited"),
}


def severity_rank(severity: str) -> int:
    """0 for ``error`` … 2 for ``info``; raises ValueError for an unknown name (a caller's typo must not pass)."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        raise ValueError(f"unknown severity {severity!r} (expected one of {', '.join(SEVERITIES)})") from None


@dataclass(frozen=True)
class Location:
    """A span in one file: 1-based ``line``/``column`` (code points) to ``end_line``/``end_column`` (exclusive).

    ``offset``/``end_offset`` are code-point offsets into the file's text when the span is in a .tex file (an
    editor converts them to its own units, e.g. LSP's UTF-16 positions); ``None`` for a .bib entry, which is known
    by its line only.
    """

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    offset: int | None = None
    end_offset: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Replacement:
    """A fix: replace the text at ``location`` with ``text`` (for a key: the key alone, inside its braces)."""

    location: Location
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Related:
    """Another place the finding is about (the other copy of a duplicate, the earlier cite of the same work)."""

    location: Location
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Finding:
    """One problem found by the audit.

    ``key``: the citation key the finding is about (as written), if any. ``replacements``: edits that would fix
    it, best first (an editor offers each as a code action; ``startref check`` never applies them). ``details``:
    numbers behind the verdict, e.g. for a possible mis-citation the two probabilities and ranks.
    """

    code: str
    severity: str
    message: str
    location: Location
    key: str | None = None
    replacements: tuple[Replacement, ...] = ()
    related: tuple[Related, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        severity_rank(self.severity)
        if self.code not in CODES:
            raise ValueError(f"unknown finding code {self.code!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "location": self.location.to_dict(),
            "key": self.key,
            "replacements": [r.to_dict() for r in self.replacements],
            "related": [r.to_dict() for r in self.related],
            "details": dict(self.details),
        }


def _sort_key(f: Finding, order: Mapping[str, int]) -> tuple[Any, ...]:
    loc = f.location
    return (order.get(loc.file, len(order)), loc.file, loc.line, loc.column, severity_rank(f.severity), f.code,
            f.key or "")


@dataclass
class AuditReport:
    """Everything ``startref check`` found in one document, in file and line order.

    ``files``: the .tex files of the document, root first. ``bibliography``: the files, entry count and parse
    problems (the same object as in ``/v1/suggest``'s response). ``citations``: cite commands read; ``checked``:
    cited keys scored for a possible mis-citation. ``sensitivity``: the threshold the mis-citation check used.
    """

    root: str
    files: list[str]
    bibliography: dict[str, Any]
    sensitivity: str
    citations: int = 0
    keys_cited: int = 0
    checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    timing_ms: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def sort(self) -> None:
        """The document's .tex files in document order, then the .bib files; by line and column within a file."""
        names = [*self.files, *self.bibliography.get("files", [])]
        order = {name: i for i, name in reversed(list(enumerate(names)))}
        self.findings.sort(key=lambda f: _sort_key(f, order))

    def at_least(self, severity: str) -> list[Finding]:
        """The findings at ``severity`` or worse."""
        limit = severity_rank(severity)
        return [f for f in self.findings if severity_rank(f.severity) <= limit]

    def filtered(self, min_severity: str) -> AuditReport:
        """A copy keeping only the findings at ``min_severity`` or worse (what ``--min-severity`` shows)."""
        return AuditReport(self.root, list(self.files), dict(self.bibliography), self.sensitivity, self.citations,
                           self.keys_cited, self.checked, self.at_least(min_severity), dict(self.timing_ms),
                           list(self.warnings))

    def counts(self) -> dict[str, int]:
        """Findings per severity, every severity present (0 when none)."""
        found = Counter(f.severity for f in self.findings)
        return {s: found.get(s, 0) for s in SEVERITIES}

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of ``startref check --json`` and ``POST /v1/check`` (documented in the README)."""
        return {
            "version": 1,
            "root": self.root,
            "files": list(self.files),
            "bibliography": dict(self.bibliography),
            "sensitivity": self.sensitivity,
            "summary": {
                "citations": self.citations,
                "keys_cited": self.keys_cited,
                "checked": self.checked,
                "findings": len(self.findings),
                **self.counts(),
            },
            "findings": [f.to_dict() for f in self.findings],
            "timing_ms": dict(self.timing_ms),
            "warnings": list(self.warnings),
        }


def group_by_file(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    """Findings grouped by file, files in first-seen order (the report is already sorted)."""
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.location.file, []).append(f)
    return list(out.items())


def worst(findings: Sequence[Finding]) -> str | None:
    """The most severe severity among ``findings`` (None when empty)."""
    return min((f.severity for f in findings), key=severity_rank, default=None)
