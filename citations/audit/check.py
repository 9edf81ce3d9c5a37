"""``check``: audit a document's citations and bibliography, and return every finding as plain data.

The one entry point the CLI (``startref check``), the HTTP server (``POST /v1/check``) and the language server
call. It reads; it never writes a file.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from startref.citations.audit.bibchecks import (
    bib_problems,
    duplicate_entries,
    entry_location,
    incomplete_entries,
    same_work_cited,
    undefined_keys,
    unused_entries,
)
from startref.citations.audit.document import AuditDocument, document_from_text, load_document
from startref.filerules import FileRules
from startref.latex.source import check_text
from startref.citations.audit.findings import AuditReport, Finding, Related, Replacement
from startref.citations.audit.identity import same_work_groups, same_work_map
from startref.citations.audit.miscitation import THRESHOLDS, KeyScore, is_flagged, score_citations, suggested_keys
from startref.citations.bibindex import BibIndex

if TYPE_CHECKING:
    from startref.citations.engine import Engine

__all__ = ["check_document", "audit", "miscitation_finding"]


def _relative(file: str, base: Path) -> str:
    """``file`` relative to ``base``, as a user who typed relative paths reads them (``<bib_text>`` as it is)."""
    if not os.path.isabs(file):
        return file
    return os.path.relpath(file, base)


def _renamed(finding: Finding, base: Path) -> Finding:
    """The finding with every .bib path shown relative to ``base`` (the .tex files already are)."""
    loc = lambda where: replace(where, file=_relative(where.file, base))  # noqa: E731
    return replace(
        finding,
        location=loc(finding.location),
        replacements=tuple(replace(r, location=loc(r.location)) for r in finding.replacements),
        related=tuple(replace(r, location=loc(r.location)) for r in finding.related),
    )


def _title(index: BibIndex, key: str) -> str:
    entry = index.get(key)
    if entry is None or not entry.title:
        return "(no title)"
    title = " ".join(entry.title.split())
    return title if len(title) <= 90 else title[:89] + "…"


def _times(margin: float) -> str:
    ratio = math.exp(min(margin, 50.0))
    return f"{ratio:,.0f}" if ratio >= 10 else f"{ratio:.1f}"


#: Below this word similarity (``cocitation``) a sentence is said to be unlike the entry's other citing sentences:
#: about the median for swapped keys cited elsewhere on shared/train (0.05; genuine ones 0.17).
UNLIKE_CONTEXT = 0.1


def _document_evidence(score: KeyScore, first: str) -> str:
    """What the whole document adds to the ranking, in words (the facts the suspicion read, ``cocitation``)."""
    out = ""
    others = score.uses - 1
    if others > 0 and score.context_match < UNLIKE_CONTEXT:
        out += (f"; `{score.key}` is cited {others} other time{'s' if others > 1 else ''} in this document, never "
                "in a sentence like this one")
    if not score.alt_cited and first == score.alt:
        out += f"; `{first}` is cited nowhere in this document"
    return out


def miscitation_finding(doc: AuditDocument, index: BibIndex, score: KeyScore) -> Finding:
    """The warning for a flagged key: both entries, both probabilities, why the other fits, and the replacement."""
    cite = doc.cites[score.cite]
    start, end = cite.key_spans[score.key_index]
    where = doc.location(start, end)
    alt = score.alt or ""
    keys = suggested_keys(score.alt, score.margin, score.near_alt, score.near_margin) or [alt]
    first = keys[0]
    first_prob = score.alt_prob if first == alt else score.prob * math.exp(min(score.near_margin, 50.0))
    if first == alt:
        message = (
            f"possible mis-citation: did you mean `{alt}` — \"{_title(index, alt)}\"? It fits here "
            f"{_times(score.margin)} times better than `{score.key}` — \"{_title(index, score.entry)}\" "
            f"(p={score.alt_prob:.2f} vs p={score.prob:.2f}, rank {score.rank} of {score.entries})"
        )
        if score.why_alt:
            message += f"; `{alt}`: {score.why_alt}"
    else:  # a near key (same first author or a similar key) nearly as good as the best: the likelier slip
        message = (
            f"possible mis-citation: did you mean `{first}` — \"{_title(index, first)}\" (a key easily confused "
            f"with `{score.key}`)? It fits here {_times(score.near_margin)} times better than `{score.key}` — "
            f"\"{_title(index, score.entry)}\" (p={first_prob:.2f} vs p={score.prob:.2f}, rank {score.rank} of "
            f"{score.entries}); the best fit overall is `{alt}` (p={score.alt_prob:.2f})"
        )
    message += _document_evidence(score, first)
    first_entry = index.get(first)
    related = (Related(entry_location(first_entry), f"`{first}` is defined here"),) if first_entry is not None else ()
    return Finding(
        "possible_miscitation", "warning", message, where, key=score.key,
        replacements=tuple(Replacement(where, k) for k in keys),
        related=related,
        details={
            "entry": score.entry,
            "probability": round(score.prob, 4),
            "rank": score.rank,
            "candidates": score.entries,
            "suggested": first,
            "best": alt,
            "suggested_probability": round(first_prob, 4),
            "best_probability": round(score.alt_prob, 4),
            "near": score.near_alt,
            "near_margin": round(score.near_margin, 3) if math.isfinite(score.near_margin) else None,
            "margin": round(score.margin, 3),
            "suspicion": round(score.suspicion, 3),
            "threshold": THRESHOLDS.get("default"),
            "why_suggested": score.why_alt if first == alt else "",
            "why_cited": score.why_entry,
            "recited": score.recited,
            "cited_elsewhere": score.uses - 1,
            "context_match": round(score.context_match, 3),
            "best_cited": score.alt_cited,
            "command": cite.command,
        },
    )


def audit(
    engine: "Engine",
    doc: AuditDocument,
    index: BibIndex,
    *,
    sensitivity: str = "default",
    workers: int = 1,
    progress: Callable[[str, int, int], None] | None = None,
) -> AuditReport:
    """Every finding for ``doc`` against ``index`` (all severities; ``AuditReport.filtered`` narrows)."""
    if sensitivity not in THRESHOLDS:
        raise ValueError(f"unknown sensitivity {sensitivity!r}")
    t0 = time.perf_counter()
    groups = same_work_groups(index)
    findings: list[Finding] = []
    findings += undefined_keys(doc, index)
    scores = score_citations(engine, doc.text, index, doc.cites, twins=same_work_map(groups), workers=workers,
                             progress=progress)
    t_rank = time.perf_counter()
    for score in scores:
        if is_flagged(score, sensitivity):
            finding = miscitation_finding(doc, index, score)
            details = dict(finding.details)
            details["threshold"] = THRESHOLDS[sensitivity]
            findings.append(Finding(finding.code, finding.severity, finding.message, finding.location, finding.key,
                                    finding.replacements, finding.related, details))
    cited = {e.key for c in [*doc.cites, *doc.nocites] for k in c.keys if (e := index.get(k)) is not None}
    findings += same_work_cited(doc, index, groups)
    findings += duplicate_entries(groups)
    findings += incomplete_entries(index, cited, include_uncited=True)
    findings += bib_problems(index.problems)
    findings += unused_entries(doc, index)
    report = AuditReport(
        root=doc.name(doc.root),
        files=doc.files,
        bibliography={"files": list(index.files), "entries": len(index),
                      "problems": [{"file": p.file, "line": p.line, "kind": p.kind, "message": p.message}
                                   for p in index.problems]},
        sensitivity=sensitivity,
        citations=len(doc.cites),
        keys_cited=sum(len(c.keys) for c in doc.cites),
        checked=len(scores),
        findings=findings,
        timing_ms={"total": round((time.perf_counter() - t0) * 1000, 1),
                   "rank": round((t_rank - t0) * 1000, 1)},
        warnings=list(doc.flat.warnings) + [f"input not found: {name}" for name in doc.flat.missing],
    )
    report.sort()
    return report


def check_document(
    engine: "Engine",
    *,
    path: str | Path | None = None,
    text: str | None = None,
    bib: Sequence[str | Path] | None = None,
    bib_text: str | None = None,
    sensitivity: str = "default",
    relative_to: Path | None = None,
    workers: int = 1,
    progress: Callable[[str, int, int], None] | None = None,
    file_rules: FileRules | None = None,
) -> AuditReport:
    """Load the document (``path``, its ``% !TEX root`` and inputs; ``text`` an unsaved buffer of ``path``, or the
    whole document when there is no path) and its bibliography (``bib_text`` > ``bib`` > discovery, as
    ``suggest``), then ``audit`` it. ``relative_to``: show files relative to this folder (the CLI's working
    directory) when ``path`` is relative. ``file_rules``: which files may be read (the server's; default the
    engine's). Errors are the other commands' (``LatexInputError``, ``BibliographyError``)."""
    t0 = time.perf_counter()
    if path is not None and Path(path).is_absolute():
        relative_to = None  # absolute in, absolute out
    rules = file_rules if file_rules is not None else engine.config.file_rules
    if text is not None:
        check_text(text, str(path) if path is not None else "<text>")
    if path is not None:
        doc = load_document(path, text, relative_to, rules)
    elif text is not None:
        doc = document_from_text(text)
    else:
        raise ValueError("check_document needs a path or a text")
    index = engine.bibliography_for(path=path, text=text, bib=bib, bib_text=bib_text, file_rules=rules)
    t_bib = time.perf_counter()
    report = audit(engine, doc, index, sensitivity=sensitivity, workers=workers, progress=progress)
    if relative_to is not None:
        report.findings = [_renamed(f, relative_to) for f in report.findings]
        report.bibliography["files"] = [_relative(f, relative_to) for f in report.bibliography["files"]]
        report.sort()
    report.timing_ms["bibliography"] = round((t_bib - t0) * 1000, 1)
    report.timing_ms["total"] = round((time.perf_counter() - t0) * 1000, 1)
    return report
