"""The checks that need no model: undefined keys, incomplete and duplicate entries, one work under two keys,
unused entries, and what the .bib parser reported.

Why these belong to ``check`` too: texlab and LaTeX Workshop report undefined and unused keys; a reviewer also
notices a reference list with the same paper twice or an entry without a year. All of it comes from the document's
cite commands and the ``BibIndex`` every other command reads, so it costs milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from startref.citations.audit.document import AuditDocument
from startref.citations.audit.findings import Finding, Location, Related, Replacement
from startref.citations.audit.identity import SameWork
from startref.citations.bibindex import BibIndex, BibProblem, Entry
from startref.citations.normalize import normalize_key

__all__ = [
    "closest_keys",
    "undefined_keys",
    "incomplete_entries",
    "duplicate_entries",
    "same_work_cited",
    "unused_entries",
    "bib_problems",
    "entry_location",
    "is_placeholder_key",
]

#: Closest keys offered for an undefined key: at most this many, at least this similar (normalised Levenshtein).
CLOSEST_LIMIT = 3
CLOSEST_MIN_SIMILARITY = 0.6


def entry_location(entry: Entry, shown: str | None = None) -> Location:
    """Where an entry starts in its .bib (line only: the index does not keep offsets)."""
    return Location(shown or entry.file, max(entry.line, 1), 1, max(entry.line, 1), 1)


def _problem_location(problem: BibProblem) -> Location:
    line = max(problem.line, 1)
    return Location(problem.file, line, 1, line, 1)


def is_placeholder_key(key: str) -> bool:
    """``\\cite{?}``, ``\\cite{??}``, ``\\cite{TODO}``-like holes are for ``annotate``, not undefined keys."""
    return not key.strip("?!*.-_ ") or key.upper() in {"TODO", "CITE", "CITATION", "REF", "XXX"}


def closest_keys(key: str, index: BibIndex, limit: int = CLOSEST_LIMIT) -> list[tuple[str, float]]:
    """The keys of ``index`` most like ``key`` (case-insensitive Levenshtein similarity, best first)."""
    keys = index.keys()
    if not keys:
        return []
    found = process.extract(key, keys, scorer=Levenshtein.normalized_similarity, processor=normalize_key,
                            limit=limit, score_cutoff=CLOSEST_MIN_SIMILARITY)
    return [(k, float(score)) for k, score, _ in found]


def undefined_keys(doc: AuditDocument, index: BibIndex) -> list[Finding]:
    """An error at every cited (or ``\\nocite``d) key that is not in the bibliography, with the closest keys."""
    failed = sum(1 for p in index.problems if p.kind in ("parse_error", "missing_key"))
    hint = (f" ({failed} block(s) of the .bib could not be parsed; the entry may be one of them)" if failed else "")
    out: list[Finding] = []
    for cite in [*doc.cites, *doc.nocites]:
        for key, (start, end) in zip(cite.keys, cite.key_spans):
            if key == "*" and cite.command == "nocite":
                continue
            if is_placeholder_key(key) or index.get(key) is not None:
                continue
            near = closest_keys(key, index)
            where = doc.location(start, end)
            if near:
                names = ", ".join(f"`{k}`" for k, _ in near)
                message = f"undefined key `{key}`: not in the bibliography; closest: {names}{hint}"
            else:
                message = f"undefined key `{key}`: not in the bibliography (no similar key){hint}"
            out.append(Finding(
                "undefined_key", "error", message, where, key=key,
                replacements=tuple(Replacement(where, k) for k, _ in near),
                details={"closest": [{"key": k, "similarity": round(s, 3)} for k, s in near],
                         "command": cite.command},
            ))
    return out


def _missing_parts(entry: Entry) -> list[str]:
    fields = entry.fields
    missing: list[str] = []
    if not entry.title.strip():
        missing.append("title")
    if not any(fields.get(name, "").strip() for name in ("author", "editor", "organization", "institution")):
        missing.append("author")
    if not entry.year.strip():
        missing.append("year")
    return missing


def incomplete_entries(index: BibIndex, cited: set[str], include_uncited: bool) -> list[Finding]:
    """A warning for each cited entry without a title, author (or editor/organization) or year (date counts);
    uncited ones as info when ``include_uncited`` (a shared library .bib would otherwise flood the report)."""
    out: list[Finding] = []
    for entry in index.entries:
        is_cited = entry.key in cited
        if not is_cited and not include_uncited:
            continue
        missing = _missing_parts(entry)
        if not missing:
            continue
        what = ", ".join(missing)
        message = f"entry `{entry.key}` has no {what}" + ("" if is_cited else " (not cited)")
        out.append(Finding("incomplete_entry", "warning" if is_cited else "info", message, entry_location(entry),
                           key=entry.key, details={"missing": missing, "cited": is_cited}))
    return out


def duplicate_entries(groups: Sequence[SameWork]) -> list[Finding]:
    """A warning at each later copy of a work the .bib holds more than once."""
    out: list[Finding] = []
    for group in groups:
        first = group.entries[0]
        for other in group.entries[1:]:
            message = (f"duplicate entry: `{other.key}` and `{first.key}` (line {first.line} of "
                       f"{Path(first.file).name}) are the same work ({group.describe()})")
            out.append(Finding(
                "duplicate_entry", "warning", message, entry_location(other), key=other.key,
                related=(Related(entry_location(first), f"`{first.key}` is defined here"),),
                details={"same_as": first.key, "reason": group.reason, "value": group.value},
            ))
    return out


def same_work_cited(doc: AuditDocument, index: BibIndex, groups: Sequence[SameWork]) -> list[Finding]:
    """A warning where the document cites a work under a second key: the reader sees two references to one paper."""
    first_cite: dict[str, tuple[int, int, str]] = {}
    for cite in doc.cites:
        for key, span in zip(cite.keys, cite.key_spans):
            entry = index.get(key)
            if entry is not None and entry.key not in first_cite:
                first_cite[entry.key] = (span[0], span[1], key)
    out: list[Finding] = []
    for group in groups:
        cited = sorted((first_cite[e.key], e) for e in group.entries if e.key in first_cite)
        if len(cited) < 2:
            continue
        (s0, e0, written0), first = cited[0]
        first_where = doc.location(s0, e0)
        for (start, end, written), entry in cited[1:]:
            where = doc.location(start, end)
            message = (f"`{written}` is the same work as `{written0}` ({group.describe()}), cited at {first_where}; "
                       f"the reference list will show it twice")
            out.append(Finding(
                "same_work_two_keys", "warning", message, where, key=written,
                replacements=(Replacement(where, written0),),
                related=(Related(first_where, f"`{written0}` is cited here"),),
                details={"same_as": first.key, "reason": group.reason},
            ))
    return out


def unused_entries(doc: AuditDocument, index: BibIndex) -> list[Finding]:
    """Info for every entry never cited nor ``\\nocite``d (none when ``\\nocite{*}`` includes everything)."""
    used: set[str] = set()
    for cite in [*doc.cites, *doc.nocites]:
        if cite.command == "nocite" and "*" in cite.keys:
            return []
        for key in cite.keys:
            entry = index.get(key)
            if entry is not None:
                used.add(entry.key)
    return [Finding("unused_entry", "info", f"entry `{e.key}` is never cited", entry_location(e), key=e.key)
            for e in index.entries if e.key not in used]


def bib_problems(problems: Iterable[BibProblem]) -> list[Finding]:
    """What the .bib parser reported, as findings: blocks that failed (warning: an entry is missing), duplicate
    keys (warning), the rest as info. Untitled entries are left to ``incomplete_entries``."""
    out: list[Finding] = []
    for p in problems:
        if p.kind == "empty_title":
            continue
        if p.kind in ("parse_error", "missing_key"):
            code, severity = "bib_parse_error", "warning"
        elif p.kind == "duplicate_key":
            code, severity = "duplicate_key", "warning"
        else:
            code, severity = "bib_problem", "info"
        out.append(Finding(code, severity, f"{p.kind.replace('_', ' ')}: {p.message}", _problem_location(p),
                           details={"kind": p.kind}))
    return out
