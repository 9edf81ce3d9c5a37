"""``startref eval --library``: the leave-one-out protocol with the library ranked beside the paper's .bib.

Why: a user who turns the library on wants to know what it costs on their own paper — how often a library entry
now pushes the right one (always in the paper's .bib, by the protocol) down. Same cases and metrics as
``evaluation.evaluate_document``; each case's list is the engine's real merged list (``ranking.rank_with_library``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from startref.citations.evaluation import Case, EvalReport, evaluate_cases, paper_cases
from startref.citations.library.ranking import rank_with_library
from startref.citations.library.store import Library

if TYPE_CHECKING:
    from startref.citations.engine import Engine

__all__ = ["evaluate_with_library"]


def evaluate_with_library(
    engine: Engine,
    library: Library,
    tex_path: Path,
    bib: Sequence[Path] | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_cases: int | None = None,
) -> EvalReport:
    """Leave-one-out accuracy when the library is ranked too; each case also records whether the top
    suggestion was an entry of the paper's .bib (``top_in_bib``)."""
    paper, cites, cases = paper_cases(tex_path, bib, max_cases)
    report = EvalReport(str(tex_path), len(paper.index), len(cites))
    top_in_bib: list[bool] = []

    def rank(case: Case) -> list[str]:
        ranked = engine.rank(case.query, paper.index)
        merged = rank_with_library(engine, library, paper.text, case.offset, cites[: case.ordinal], paper.index,
                                   ranked, top=10, after_start=cites[case.ordinal].end)
        top_in_bib.append(bool(merged) and merged[0].in_bib)
        return [r.entry.key if r.in_bib else f"{r.entry.key} (library)" for r in merged]

    report = evaluate_cases(cases, rank, report, progress)
    for row, flag in zip(report.cases, top_in_bib):
        row["top_in_bib"] = flag
    return report
