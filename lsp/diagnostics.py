"""Diagnostics: cited keys missing from the bibliography, and the problems the bibliography index already finds.

Why a list of providers: each check is a function from one ``TexInput`` to ``Finding``s, and the server publishes
whatever the list returns. A later check (``startref check``'s mis-citation findings) is one more function
appended to ``TEX_PROVIDERS``; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

from startref.citations.bibindex import BibIndex, BibProblem
from startref.latex.cites import CiteCommand

from .documents import BibLookup

__all__ = [
    "Finding",
    "BibFinding",
    "TexInput",
    "TexProvider",
    "TEX_PROVIDERS",
    "tex_findings",
    "undefined_keys",
    "missing_bibliography",
    "bib_findings",
    "MAX_FINDINGS",
]

#: A document with thousands of broken keys gets this many diagnostics, not a flood.
MAX_FINDINGS = 500


@dataclass(frozen=True)
class Finding:
    """A problem in a LaTeX document: ``text[start:end]`` (code points); severity error|warning|information."""

    start: int
    end: int
    severity: str
    message: str
    code: str


@dataclass(frozen=True)
class BibFinding:
    """A problem in a .bib file: 1-based ``line`` (0: the whole file)."""

    file: str
    line: int
    severity: str
    message: str
    code: str


@dataclass(frozen=True)
class TexInput:
    """What every LaTeX provider may read: the text, its path, its cites, and its bibliography (or why none)."""

    text: str
    path: Path | None
    cites: list[CiteCommand]
    bibliography: BibLookup


TexProvider = Callable[[TexInput], list[Finding]]


def _closest(key: str, index: BibIndex, n: int = 3) -> list[str]:
    keys = index.keys()
    found = process.extract(key, keys, scorer=fuzz.ratio, limit=n, score_cutoff=50)
    return [match for match, _score, _i in found]


def undefined_keys(doc: TexInput) -> list[Finding]:
    """One error per cited key that no bibliography defines, naming the closest existing keys.

    A half-typed ``\\cite{ab`` (no closing brace yet) is left alone: the user is still typing it.
    """
    index = doc.bibliography.index
    if index is None:
        return []
    where = ", ".join(Path(f).name for f in index.files) or "the bibliography"
    out: list[Finding] = []
    for cite in doc.cites:
        if not cite.closed:
            continue
        for key, (a, b) in zip(cite.keys, cite.key_spans):
            if "#" in key or index.get(key) is not None:
                continue
            if len(out) >= MAX_FINDINGS:  # the closest-key search is the costly part: stop when none would show
                return out
            near = _closest(key, index)
            hint = f"; closest: {', '.join(near)}" if near else ""
            out.append(Finding(a, b, "error", f"undefined citation key '{key}': not in {where}{hint}", "undefined_key"))
    return out


def missing_bibliography(doc: TexInput) -> list[Finding]:
    """A warning when the document cites but no bibliography can be found (at the bibliography command when the
    document names one that does not exist, else at its first cite)."""
    lookup = doc.bibliography
    if lookup.index is not None or not doc.cites:
        return []
    message = lookup.error or "no bibliography found for this document"
    for name in lookup.missing:
        at = doc.text.find(name)
        if at >= 0:
            return [Finding(at, at + len(name), "warning", f"bibliography '{name}' not found", "bibliography_not_found")]
    first = doc.cites[0]
    return [Finding(first.start, first.end, "warning", message, "bibliography_not_found")]


#: The checks run on every LaTeX document, in order.
TEX_PROVIDERS: list[TexProvider] = [undefined_keys, missing_bibliography]


def tex_findings(doc: TexInput, providers: list[TexProvider] | None = None) -> list[Finding]:
    """Every provider's findings, in text order, at most ``MAX_FINDINGS``."""
    out: list[Finding] = []
    for provider in providers if providers is not None else TEX_PROVIDERS:
        out.extend(provider(doc))
    out.sort(key=lambda f: (f.start, f.end))
    return out[:MAX_FINDINGS]


_SEVERITY = {
    "parse_error": "error",
    "missing_key": "error",
    "duplicate_key": "warning",
    "decoding": "warning",
}


def bib_findings(problems: tuple[BibProblem, ...] | list[BibProblem], files: list[str]) -> dict[str, list[BibFinding]]:
    """The index's problems grouped by file, for every file in ``files`` (an empty list clears old ones)."""
    out: dict[str, list[BibFinding]] = {f: [] for f in files}
    for p in problems:
        out.setdefault(p.file, []).append(
            BibFinding(p.file, p.line, _SEVERITY.get(p.kind, "information" if p.kind == "empty_title" else "warning"),
                       p.message, p.kind)
        )
    return {f: found[:MAX_FINDINGS] for f, found in out.items()}
