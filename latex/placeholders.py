"""Finding the places where the author asked for a citation: ``\\cite{?}``, ``\\citep{}``, ``[CITATION]``, ...

Why: ``startref annotate`` fills such markers in a whole file. A placeholder written as a cite command keeps the
author's choice of command, star and optional arguments (``\\citet[p.~3]{?}`` must become
``\\citet[p.~3]{smith2020}``), so its span covers the *whole* command and ``Placeholder.replacement`` rebuilds it
with only the key group changed; the engine replaces ``text[start:end]`` with that string. A bare marker
(``[CITATION]``, or a ``[START_REF]`` with no ``[END_REF]`` after it on its line) has ``command=None`` and is
replaced by ``\\<default command>{key}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .cites import find_cites, ignored_spans, in_spans
from .commands import CiteSyntax, syntax_with_user_wrappers

__all__ = ["Placeholder", "find_placeholders"]

_EMPTY_KEYS = re.compile(r"\s*\?*\s*")
_BARE = re.compile(r"\[CITATION\]|\[START_REF\]")


@dataclass(frozen=True)
class Placeholder:
    """A span to replace with a citation.

    ``command``: the cite command written (no backslash/star), or None for a bare marker. For a cite command,
    ``prefix`` is the text from the backslash up to and including ``{`` of the key group (``\\citet[p.~3]{``) and
    ``suffix`` the rest (``}``), so ``prefix + key + suffix`` is the filled-in command.
    """

    start: int
    end: int
    command: str | None
    prefix: str = ""
    suffix: str = ""

    def replacement(self, key: str, default_command: str = "cite") -> str:
        """The text that replaces ``text[start:end]`` to cite ``key`` (several keys: pass ``"a,b"``)."""
        if self.command is None:
            return f"\\{default_command}{{{key}}}"
        return f"{self.prefix}{key}{self.suffix}"


def find_placeholders(text: str, syntax: CiteSyntax | None = None) -> list[Placeholder]:
    """Every placeholder in ``text`` in text order, none inside comments or verbatim environments.

    A cite command is a placeholder when it has exactly one key group, closed, holding nothing or only ``?``
    (``\\cite{}``, ``\\citep{ ? }``). ``syntax`` None means the defaults plus the wrappers ``text`` defines.
    """
    syntax = syntax if syntax is not None else syntax_with_user_wrappers(text)
    found: list[Placeholder] = []
    cites = find_cites(text, syntax)
    for cite in cites:
        if len(cite.groups) != 1 or not cite.closed:
            continue
        gs, ge = cite.groups[0]
        if _EMPTY_KEYS.fullmatch(text, gs, ge):
            found.append(
                Placeholder(
                    start=cite.start,
                    end=cite.end,
                    command=cite.command,
                    prefix=text[cite.start : gs],
                    suffix=text[ge : cite.end],
                )
            )
    ignored = ignored_spans(text)
    starts = [s for s, _ in ignored]
    cite_spans = [(c.start, c.end) for c in cites]
    cite_starts = [s for s, _ in cite_spans]
    for m in _BARE.finditer(text):
        if in_spans(ignored, m.start(), starts) or in_spans(cite_spans, m.start(), cite_starts):
            continue
        if m.group() == "[START_REF]":
            line_end = text.find("\n", m.end())
            if "[END_REF]" in text[m.end() : len(text) if line_end < 0 else line_end]:
                continue
        found.append(Placeholder(start=m.start(), end=m.end(), command=None))
    found.sort(key=lambda p: p.start)
    return found
