"""Leave-one-out evaluation on a paper's own citations, and the mining of (context, cited entries) cases.

The protocol (the same for ``startref eval``, the bench and ``startref train``): for each cite command whose keys
are in the bibliography, the cursor is put where the command stood; the text before keeps its earlier cites (the
history), the command itself and every cite command after it are removed; the candidates are the whole
bibliography. A case is a hit@k when any of its keys is among the first k suggestions.

Masking is the server's: the query is built from ALL cite commands of the document (``build_query`` cuts each one
out of the text by its parsed span), not only the earlier ones. Passing only the earlier ones left later commands to
the plain-text conversion, which misses ``\\Cite``/``\\Citeauthor`` and a command cut in half by the after-window,
so a key could leak into the text after the cursor.

``drafting=True`` is the protocol of someone writing left to right: nothing after the cursor exists yet.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from startref.citations.bibindex import BibIndex, load_bibliography
from startref.citations.errors import BibliographyError
from startref.citations.features import Query
from startref.citations.normalize import normalize_title
from startref.citations.query import build_query
from startref.latex.cites import CiteCommand, find_cites
from startref.latex.commands import syntax_with_user_wrappers
from startref.latex.discovery import discover_bibliographies
from startref.latex.flatten import flatten_document

if TYPE_CHECKING:
    from startref.citations.engine import Engine, RankedEntry

__all__ = ["Case", "mine_cases", "case_query", "EvalReport", "evaluate_document", "evaluate_cases", "load_paper", "Paper", "paper_cases"]


@dataclass(frozen=True)
class Case:
    """One masked citation: where it stood, which entries it cited (canonical keys), and the query there."""

    ordinal: int
    offset: int
    line: int
    command: str
    gold: tuple[str, ...]
    query: Query


@dataclass
class Paper:
    """A document flattened across its \\input files, with its bibliography."""

    tex_path: Path
    text: str
    index: BibIndex


def load_paper(tex_path: Path, bib: Sequence[Path] | None = None) -> Paper:
    """Flatten the document at ``tex_path`` and load its bibliography (given, or discovered as LaTeX would)."""
    flat = flatten_document(Path(tex_path))
    if bib:
        files = list(bib)
    else:
        found = discover_bibliographies(Path(tex_path), flat.text)
        files = list(found.usable)
        if not files:
            missing = f" (named but not found: {', '.join(found.missing)})" if found.missing else ""
            raise BibliographyError(str(tex_path), f"no bibliography found{missing}; pass --bib", code="bibliography_not_found")
    return Paper(Path(tex_path), flat.text, load_bibliography(files))


def mine_cases(
    text: str, index: BibIndex, cites: Sequence[CiteCommand] | None = None, *, drafting: bool = False
) -> Iterator[Case]:
    """Every leave-one-out case of ``text``: one per cite command with at least one key in ``index``; with
    ``drafting`` the query sees no text after the cursor."""
    if cites is None:
        cites = find_cites(text, syntax_with_user_wrappers(text))
    line, last = 1, 0
    for ordinal, cite in enumerate(cites):
        line += text.count("\n", last, cite.start)
        last = cite.start
        gold: list[str] = []
        for key in cite.keys:
            entry = index.get(key)
            if entry is not None and entry.key not in gold:
                gold.append(entry.key)
        if not gold:
            continue
        query = case_query(text, index, cites, ordinal, drafting=drafting)
        yield Case(ordinal, cite.start, line, cite.command, tuple(gold), query)


def case_query(
    text: str, index: BibIndex, cites: Sequence[CiteCommand], ordinal: int, *, drafting: bool = False
) -> Query:
    """The query at cite command ``ordinal`` with it masked, exactly as the server builds one (all of ``cites``)."""
    cite = cites[ordinal]
    query = build_query(text, cite.start, index, cites, after_start=cite.end)
    return replace(query, after="") if drafting else query


@dataclass
class EvalReport:
    """Per-case results and their summary."""

    document: str
    entries: int
    cites: int
    cases: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        n = len(self.cases)
        ranks = np.array([c["rank"] for c in self.cases], dtype=np.float64) if n else np.zeros(0)
        lat = np.array([c["ms"] for c in self.cases], dtype=np.float64) if n else np.zeros(0)
        return {
            "document": self.document,
            "entries": self.entries,
            "cite_commands": self.cites,
            "cases": n,
            "hit@1": float((ranks == 1).mean()) if n else 0.0,
            "hit@5": float((ranks <= 5).mean()) if n else 0.0,
            "mrr": float((1.0 / ranks).mean()) if n else 0.0,
            "mrr@10": float(np.where(ranks <= 10, 1.0 / ranks, 0.0).mean()) if n else 0.0,
            "p50_ms": float(np.percentile(lat, 50)) if n else 0.0,
            "p95_ms": float(np.percentile(lat, 95)) if n else 0.0,
        }


def _gold_rank(ranked: Sequence[str], gold: set[str]) -> int:
    for i, key in enumerate(ranked, 1):
        if key in gold:
            return i
    return len(ranked) + 1


def evaluate_cases(
    cases: Sequence[Case],
    rank: Callable[[Case], list[str]],
    report: EvalReport,
    progress: Callable[[int, int], None] | None = None,
) -> EvalReport:
    """Rank every case with ``rank`` (keys best first) and record rank and latency."""
    for n, case in enumerate(cases):
        t0 = time.perf_counter()
        ranked = rank(case)
        ms = (time.perf_counter() - t0) * 1000
        r = _gold_rank(ranked, set(case.gold))
        report.cases.append(
            {"line": case.line, "command": case.command, "gold": list(case.gold), "rank": r,
             "top": ranked[:5], "ms": round(ms, 2)}
        )
        if progress:
            progress(n + 1, len(cases))
    return report


def engine_ranker(engine: "Engine", index: BibIndex, text: str | None = None) -> Callable[[Case], list[str]]:
    """A ``rank`` function for ``evaluate_cases`` that goes through the engine's real path: the ranker, then the
    LM stage when the engine uses one (it sees only ``text`` before the cursor)."""

    def rank(case: Case) -> list[str]:
        ranked: list[RankedEntry] = engine.rank(case.query, index)
        if engine.uses_generator and text is not None:
            ranked, _unresolved = engine.with_generation(text[: case.offset], case.offset, ranked, index, 5)
        return [r.entry.key for r in ranked]

    return rank


def paper_cases(
    tex_path: Path, bib: Sequence[Path] | None = None, max_cases: int | None = None
) -> tuple[Paper, list[CiteCommand], list[Case]]:
    """The paper, its cite commands and its leave-one-out cases (``max_cases`` of them spread evenly over the
    document): what every evaluation of one document starts from."""
    paper = load_paper(tex_path, bib)
    cites = find_cites(paper.text, syntax_with_user_wrappers(paper.text))
    cases = list(mine_cases(paper.text, paper.index, cites))
    if max_cases is not None and len(cases) > max_cases:
        step = len(cases) / max_cases
        cases = [cases[int(i * step)] for i in range(max_cases)]
    return paper, cites, cases


def evaluate_document(
    engine: "Engine",
    tex_path: Path,
    bib: Sequence[Path] | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_cases: int | None = None,
) -> EvalReport:
    """``startref eval``: leave-one-out accuracy of the engine's default path on one document."""
    paper, cites, cases = paper_cases(tex_path, bib, max_cases)
    report = EvalReport(str(tex_path), len(paper.index), len(cites))
    rank = engine_ranker(engine, paper.index, paper.text)
    engine.rank(cases[0].query, paper.index) if cases else None  # warm caches: latency is per suggestion
    return evaluate_cases(cases, rank, report, progress)


def title_normaliser(index: BibIndex) -> Callable[[str], str]:
    """key -> normalised title, for the merged-library setting (the bench counts a same-title entry as a hit)."""
    table = {e.key: normalize_title(e.title) for e in index.entries}
    return lambda key: table.get(key, "")
