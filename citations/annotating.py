"""Filling citation placeholders (``startref annotate``, ``POST /v1/annotate``): one engine call per document.

Why a module of its own: annotating is the engine's only batch operation — a deadline and a cap bound it, the LM
stage may run for several placeholders at once, library entries it chooses become one .bib edit — and it only
composes what the engine already does for one cursor (``build_query``, ``rank``, the LM stage, the library merge).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from startref.citations.bibindex import Entry
from startref.citations.lmbatch import map_in_order
from startref.citations.features import Query
from startref.citations.query import DocumentWords, build_query
from startref.citations.suggestion import AnnotateEdit, AnnotateResult
from startref.filerules import FileRules
from startref.latex.cites import find_cites
from startref.latex.commands import syntax_with_user_wrappers
from startref.latex.context import dominant_command
from startref.latex.placeholders import find_placeholders
from startref.latex.position import line_col_from_offset
from startref.latex.source import check_text

if TYPE_CHECKING:
    from startref.citations.engine import Engine, RankedEntry

__all__ = ["annotate_text"]


def annotate_text(
    engine: Engine,
    text: str,
    *,
    path: str | Path | None = None,
    bib: Sequence[str | Path] | None = None,
    bib_text: str | None = None,
    keep_k: int = 0,
    command: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    deadline: float | None = None,
    max_placeholders: int | None = None,
    file_rules: FileRules | None = None,
    concurrency: int = 1,
    library: bool | None = None,
    append_to: str | Path | None = None,
) -> AnnotateResult:
    """Fill every citation placeholder of ``text`` with its best entry (text outside the edits is untouched).

    Placeholders are filled independently, each seeing the document as written (earlier real cites are its
    history); with ``keep_k`` the runners-up go into a ``% startref:`` comment at the end of the line.
    At most ``max_placeholders`` are filled, and none is ranked after ``deadline`` (``time.monotonic()``; the
    first one always is, so every call makes progress): the rest stay as written and a warning says how many —
    the edits made are valid, and a second call fills the rest (filled placeholders are no longer placeholders).
    ``concurrency`` LM-stage calls run at once (a model server serves them in parallel; ranking stays serial);
    past the deadline the LM stage is skipped and the ranker's order is used (a warning says for how many).
    """
    check_text(text, str(path) if path else "<text>")
    holders = find_placeholders(text)
    index = engine.bibliography_for(path=path, text=text, bib=bib, bib_text=bib_text, file_rules=file_rules)
    if not holders:
        return AnnotateResult(text=text, edits=[], bibliography=engine.summary(index))
    warnings: list[str] = []
    if max_placeholders is not None and len(holders) > max_placeholders:
        warnings.append(f"{len(holders)} placeholders; only the first {max_placeholders} are filled per "
                        "request (send the new text again to fill the rest)")
        holders = holders[:max_placeholders]
    lib, lib_warning = engine.library_or_warning(library)
    if lib_warning:
        warnings.append(lib_warning)
    if lib is not None:  # the library package is imported only when a library is in use
        from startref.citations.library.ranking import plan_bib_edit, rank_with_library, target_for
    added: dict[str, Entry] = {}
    syntax = syntax_with_user_wrappers(text)
    cites = find_cites(text, syntax)
    dominant = command or dominant_command(cites, syntax)
    words = DocumentWords(text, cites)  # shared by every placeholder: linear, not placeholders x document
    queries: list[Query] = []
    rankings: list[list[RankedEntry]] = []
    for n, holder in enumerate(holders):
        if queries and deadline is not None and time.monotonic() > deadline:  # at least one is always filled
            warnings.append(f"time limit reached: {len(holders) - n} placeholders left as written "
                            "(send the new text again to fill the rest)")
            holders = holders[:n]
            break
        query = build_query(text, holder.start, index, cites, after_start=holder.end, words=words)
        queries.append(query)
        rankings.append(engine.rank(query, index))
    late: list[int] = []

    def stage(n: int) -> tuple[list[RankedEntry], list[str], str | None]:
        if deadline is not None and time.monotonic() > deadline and engine.uses_generator:
            late.append(n)
            return rankings[n], [], None
        return engine.with_generation_or_error(text, holders[n].start, rankings[n], index, max(keep_k, 5))

    staged = map_in_order(stage, range(len(holders)), concurrency, progress)
    if late:
        warnings.append(f"time limit reached: the LM stage was skipped for {len(late)} placeholders "
                        "(filled by the ranker alone)")
    edits: list[AnnotateEdit] = []
    errors: list[str] = []
    for holder, query, (ranked, _unresolved, error) in zip(holders, queries, staged):
        if error is not None and error not in errors:
            errors.append(error)
        if lib is not None:
            ranked = rank_with_library(engine, lib, text, holder.start, cites, index, ranked, top=max(keep_k, 5),
                                       after_start=holder.end)
        if not ranked:
            continue
        best = ranked[0].entry.key
        if not ranked[0].in_bib:
            added.setdefault(best, ranked[0].entry)
        new = holder.replacement(best, dominant)
        line, _col = line_col_from_offset(text, holder.start)
        shown = [engine.candidate_of(r, query, index) for r in ranked[: max(keep_k, 1)]]
        edits.append(AnnotateEdit(holder.start, holder.end, line, text[holder.start : holder.end], new, shown))
    new_text = _apply(text, edits, keep_k)
    bib_edit = None
    if added:  # only library entries are added, so the import above ran
        edit = plan_bib_edit(target_for(index, append_to, bib_text), list(added.values()))
        bib_edit = edit.to_dict() if edit is not None else None
    return AnnotateResult(text=new_text, edits=edits, bibliography=engine.summary(index), warnings=warnings,
                          generator_error="; ".join(errors) or None, bib_edit=bib_edit)


def _apply(text: str, edits: list[AnnotateEdit], keep_k: int) -> str:
    """Apply edits back to front; with keep_k, add one ``% startref:`` comment at the end of each edited line."""
    out = text
    comments: dict[int, list[str]] = {}
    for edit in edits:
        if keep_k > 0:
            eol = text.find("\n", edit.end)
            eol = len(text) if eol < 0 else (eol - 1 if eol > 0 and text[eol - 1] == "\r" else eol)
            ranked = ", ".join(f"{c.key} ({c.score:.2f})" for c in edit.candidates[:keep_k])
            comments.setdefault(eol, []).append(ranked)
    inserts: list[tuple[int, int, str]] = [(e.start, e.end, e.new) for e in edits]
    inserts += [(pos, pos, " % startref: " + "; ".join(texts)) for pos, texts in comments.items()]
    parts: list[str] = []
    pos = 0
    for start, end, new in sorted(inserts, key=lambda t: (t[0], t[1])):  # one pass: linear in the text
        parts.append(out[pos:start])
        parts.append(new)
        pos = end
    parts.append(out[pos:])
    return "".join(parts)
