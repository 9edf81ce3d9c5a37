"""Quick fixes for the citation diagnostics: "Replace with `smith2019b`" edits the cited key in place.

Why from the diagnostics in the request's context: that is the LSP convention (the client sends the diagnostics
under the cursor with ``textDocument/codeAction``), and each of ours carries its replacements in ``data``. A
client that drops ``data`` still gets the fix for an undefined key (the closest keys are recomputed: cheap); and
the key under the diagnostic is checked against the current text, so a fix never overwrites a key the user has
already changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types

from startref.citations.audit.bibchecks import closest_keys
from startref.citations.bibindex import BibIndex
from startref.latex.cites import CiteCommand

from .auditing import FIXABLE_CODES
from .convert import SOURCE, offset_at

__all__ = ["KeyFix", "key_fixes"]


@dataclass(frozen=True)
class KeyFix:
    """Replace the key at ``text[start:end]`` with ``new_key``; ``preferred``: the best fix of its diagnostic."""

    title: str
    start: int
    end: int
    new_key: str
    preferred: bool
    diagnostic: types.Diagnostic


def _key_span(cites: list[CiteCommand], start: int, end: int) -> tuple[str, int, int] | None:
    for cite in cites:
        for key, (a, b) in zip(cite.keys, cite.key_spans):
            if a == start and b == end:
                return key, a, b
    return None


def key_fixes(text: str, cites: list[CiteCommand], diagnostics: list[types.Diagnostic],
              index: BibIndex | None) -> list[KeyFix]:
    """The replace-the-key fixes for the given diagnostics (ours only, fixable codes only)."""
    out: list[KeyFix] = []
    for diag in diagnostics:
        if diag.source != SOURCE or diag.code not in FIXABLE_CODES:
            continue
        try:
            start, end = offset_at(text, diag.range.start), offset_at(text, diag.range.end)
        except Exception:
            continue  # a diagnostic of an older version, past the end of the text now
        found = _key_span(cites, start, end)
        if found is None:
            continue
        written, start, end = found
        data = diag.data if isinstance(diag.data, dict) else {}
        if data.get("key") not in (None, written):
            continue  # the key under the diagnostic has changed since it was published
        keys = [k for k in data.get("replacements") or [] if isinstance(k, str)]
        if not keys and diag.code == "undefined_key" and index is not None:
            keys = [k for k, _score in closest_keys(written, index)]
        if index is not None:
            keys = [k for k in keys if index.get(k) is not None]
        for i, key in enumerate(dict.fromkeys(k for k in keys if k != written)):
            out.append(KeyFix(f"Replace with `{key}`", start, end, key, i == 0, diag))
    return out
