"""The edits a suggestion carries, shaped with the bibliography in view.

Why a module of its own: the LaTeX layer finds the cursor's cite and builds the ``\\cite`` edit, but two choices
need the bibliography: a cursor right after a key that exists asks for one *more* key, and a candidate from the
library (not yet in the paper's .bib) carries the .bib edit that adds it. The ``Engine`` applies both.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from startref.citations.bibindex import BibIndex
from startref.citations.engine_types import RankedEntry
from startref.citations.suggestion import Candidate
from startref.latex.context import CursorContext

__all__ = ["complete_key_means_add", "with_bib_edits", "KEY_END"]

#: Characters that end a citation key inside ``\\cite{...}``.
KEY_END = frozenset(",} \t\n\r%")


def with_bib_edits(candidates: list[Candidate], ranked: list[RankedEntry], index: BibIndex,
                   append_to: str | Path | None, bib_text: str | None) -> tuple[list[Candidate], Any]:
    """Give each library candidate the .bib edit that adds it (``bib_edit``); the first candidate's is the
    suggestion's own ``bib_edit`` (it goes with ``insert``)."""
    from startref.citations.library.ranking import plan_bib_edit, target_for

    target = target_for(index, append_to, bib_text)
    out: list[Candidate] = []
    for c, r in zip(candidates, ranked):
        if not r.in_bib:
            edit = plan_bib_edit(target, [r.entry])
            c = replace(c, bib_edit=edit.to_dict() if edit is not None else None)
        out.append(c)
    first = out[0].bib_edit if out else None
    return out, first


def complete_key_means_add(ctx: CursorContext, index: BibIndex) -> CursorContext:
    """Inside a cite, a cursor at the end of a key that already exists asks for one MORE key, not a replacement.

    The LaTeX layer cannot tell a half-typed key from a finished one; the bibliography can. Without this, a hotkey
    pressed right after ``\\cite{a, b|}`` would overwrite the valid key ``b``.
    """
    if ctx.inside_cite is None or ctx.inside_group is None:
        return ctx
    text, end = ctx.text, ctx.cursor
    while end < ctx.inside_group[1] and text[end] not in KEY_END:
        end += 1
    word = text[ctx.cursor - len(ctx.typed_prefix) : end]
    if word and index.get(word) is not None:
        return replace(ctx, cursor=end, typed_prefix="")
    return ctx
