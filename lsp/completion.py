"""Completion inside cite commands: every entry of the bibliography, ranked by the text around the cursor.

Why ranked and not filtered: texlab, vimtex and citar only filter keys by what is typed; the point of startref is
that the entry that belongs *here* comes first. So every entry is returned, best first, with ``sort_index``
keeping the engine's order, and ``filter_text`` holding key + title words + author names so typing a word of the
title or an author keeps the entry in the menu.

Why lazy: the *why* of one entry costs about a millisecond (the ranker's per-feature contributions), so only the
first ``EAGER_WHY`` entries carry it; the others get it from ``resolve`` when the editor shows their
documentation (LSP ``completionItem/resolve``), from the ranking kept by the server.

Big libraries: at most ``LIMIT`` entries go back, with ``incomplete`` set so the editor asks again as the user
types; the typed word then narrows the ranked list (key, title word or author prefix) before the cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from startref.citations.bibindex import Entry
from startref.latex.context import cursor_context

from .entries import detail_line, entry_markdown, filter_text
from .library import library_key_of
from .prefix_index import prefix_index

__all__ = ["CompletionChoice", "CompletionResult", "cite_slot", "complete", "resolve_documentation", "LIMIT", "EAGER_WHY"]

#: Most entries sent back at once (the rest come as the user types: ``incomplete``).
LIMIT = 200
#: Entries whose *why* is computed with the list; the others on ``completionItem/resolve``.
EAGER_WHY = 5
_KEY_STOP = frozenset(" \t\r\n,{}%\\")
#: How far back a key group's ``{`` may be (a group of dozens of keys and comments fits).
_GROUP_REACH = 5000


@dataclass(frozen=True)
class CompletionChoice:
    """One entry for the menu. ``start``/``end`` span (code points) the key text the choice replaces."""

    key: str
    rank: int
    detail: str
    documentation: str
    filter_text: str
    start: int
    end: int
    resolved: bool
    #: For an entry of the library the paper's .bib lacks: its key in the library (choosing it adds it to the .bib).
    library_key: str | None = None


@dataclass
class CompletionResult:
    """The menu, whether it is cut (``incomplete``), and the ranking (kept for ``resolve_documentation``)."""

    choices: list[CompletionChoice]
    incomplete: bool
    ranking: Any


def cite_slot(text: str, offset: int) -> tuple[int, int] | None:
    """The span of the key being typed when ``offset`` is inside a cite's key group, else None.

    Covers every cite command the document knows (natbib, biblatex, its own wrappers), after a comma
    (``\\cite{a, |}``), after optional arguments (``\\citep[see][]{|}``) and a half-typed ``\\cite{ab``.
    """
    brace = text.rfind("{", max(0, offset - _GROUP_REACH), offset)
    if brace < 0 or any(ch in text[brace + 1 : offset] for ch in "}\\"):
        return None  # keys hold no brace or backslash: not in a key group (cheap, before parsing every cite)
    ctx = cursor_context(text, offset, before_chars=0, after_chars=0)
    if ctx.inside_group is None:
        return None
    g_start, g_end = ctx.inside_group
    start = offset
    while start > g_start and text[start - 1] not in _KEY_STOP:
        start -= 1
    end = offset
    while end < g_end and text[end] not in _KEY_STOP:
        end += 1
    return start, end


def _matches(entry: Entry, typed: str) -> bool:
    """Whether the typed word starts the key, a title word or an author name (case-insensitive)."""
    if entry.key.lower().startswith(typed):
        return True
    return any(word.startswith(typed) for word in filter_text(entry).lower().replace("-", " ").split())


def complete(engine: Any, text: str, offset: int, bib_files: Sequence[str | Path], limit: int = LIMIT) -> CompletionResult | None:
    """The ranked menu at ``offset``, or None when the cursor is not in a cite's key group."""
    slot = cite_slot(text, offset)
    if slot is None:
        return None
    start, end = slot
    ranking = engine.rank_at(text, offset, bib=list(bib_files), k=limit)
    ranked = ranking.ranked
    rows: list[tuple[Entry, Any]] = []
    current = ranking.index.get(text[start:end]) if end > start else None
    if current is not None and all(r.entry.key != current.key for r in ranked):
        rows.append((current, None))  # the word typed is a whole key: keep it in the menu (first)
    # (a big .bib's ranking lists only its candidate rows: the index's size is what the menu may have to show)
    incomplete = max(len(ranked), len(ranking.index)) + len(rows) > limit
    typed = text[start:offset].lower() if incomplete else ""
    for r in ranked:  # walked only as far as the menu needs (a library has tens of thousands of rows)
        if len(rows) >= limit:
            break
        if not typed or _matches(r.entry, typed):
            rows.append((r.entry, r))
    if typed and len(rows) < limit and len(ranked) < len(ranking.index):
        # A big .bib lists only the candidate stage's rows: the letters typed may name any other entry.
        listed = {entry.key for entry, _ in rows} | {r.entry.key for r in ranked} | set(ranking.query.exclude)
        entries = ranking.index.entries
        for i in prefix_index(ranking.index).rows(typed):
            if len(rows) >= limit:
                break
            if entries[i].key not in listed:
                rows.append((entries[i], None))
    choices: list[CompletionChoice] = []
    for rank, (entry, row) in enumerate(rows):
        eager = rank < EAGER_WHY and row is not None
        candidate = engine.candidate(row, ranking) if eager else None
        choices.append(CompletionChoice(
            key=entry.key,
            rank=rank,
            detail=detail_line(entry),
            documentation=entry_markdown(entry, why=candidate.why if candidate else "", candidate=candidate),
            filter_text=filter_text(entry),
            start=start,
            end=end,
            resolved=eager or row is None,
            library_key=library_key_of(engine, row) if row is not None and row.in_bib is False else None,
        ))
    return CompletionResult(choices, incomplete, ranking)


def resolve_documentation(engine: Any, ranking: Any, key: str) -> str | None:
    """The full documentation (with the *why*) of ``key`` from a kept ranking; None when it is not in it."""
    for row in ranking.ranked:
        if row.entry.key == key:
            candidate = engine.candidate(row, ranking)
            return entry_markdown(row.entry, why=candidate.why, candidate=candidate)
    return None
