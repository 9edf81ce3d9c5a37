"""Code actions outside a cite ("Cite: <title> (<first author> <year>)") and the ``startref.suggest`` command.

Why the same edit as the HTTP ``insert``: both come from ``insertion_for`` over the same cursor context, so the
document's dominant command is reused (``\\citep{key}`` in a natbib paper that writes ``\\citep``) and the three
ways in (CLI, HTTP, LSP) cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from startref.citations.suggestion import Suggestion
from startref.latex.context import insertion_for

from .entries import short_label

__all__ = ["CiteAction", "cite_actions", "suggest_at", "ACTIONS"]

#: How many "Cite: ..." actions are offered.
ACTIONS = 3


@dataclass(frozen=True)
class CiteAction:
    """One "Cite: ..." action: its title and the edit ``text[start:end] = new_text`` (code points)."""

    title: str
    key: str
    start: int
    end: int
    new_text: str


def cite_actions(engine: Any, text: str, offset: int, bib_files: Sequence[str | Path], n: int = ACTIONS,
                 command: str | None = None) -> list[CiteAction]:
    """The best ``n`` entries for a cursor outside any cite, as edits inserting ``\\cite{key}``; [] inside one
    (completion serves that place)."""
    ranking = engine.rank_at(text, offset, bib=list(bib_files), k=n)
    if ranking.context.inside_cite is not None:
        return []
    actions: list[CiteAction] = []
    for row in ranking.ranked[:n]:
        start, end, new = insertion_for(ranking.context, row.entry.key, command)
        actions.append(CiteAction(f"Cite: {short_label(row.entry)}", row.entry.key, start, end, new))
    return actions


def suggest_at(engine: Any, text: str, offset: int, bib_files: Sequence[str | Path], k: int = 5,
               command: str | None = None) -> Suggestion:
    """What ``POST /v1/suggest`` answers for this cursor, for clients that show their own picker."""
    return engine.suggest(text, offset, bib=list(bib_files), k=k, command=command)
