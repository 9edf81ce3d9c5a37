"""The cite-command vocabulary, as configuration rather than code.

Why (texlab style): which macros cite is a property of the *document* -- natbib, biblatex and the author's own
``\\newcommand{\\mycite}[1]{\\citep{#1}}`` all differ -- so the parser takes a :class:`CiteSyntax` value and every
feature (finding cites, cursor context, placeholders, plain text) reads the same one. User wrappers are found by
reading the document's own macro definitions, so a paper that writes ``\\mycite{key}`` everywhere just works.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Mapping

__all__ = ["CiteSyntax", "DEFAULT_CITE_SYNTAX", "syntax_with_user_wrappers"]


@dataclass(frozen=True)
class CiteSyntax:
    """Which commands cite.

    ``commands``: single-group cite commands (``citep``), names without backslash; the star is parsed, not listed.
    ``multicite``: biblatex multicite commands (``\\cites[pre][post]{a}[pre]{b}``) taking several key groups.
    ``wrappers``: user macro name -> ``(number of args, 1-based index of the arg holding the keys)``.
    ``wrapper_signatures``: user macro name -> one xparse-like letter per arg: ``m`` mandatory ``{}``, ``o``
    optional ``[]``, ``s`` star (``\\newcommand\\mycite[2][]{...}`` is ``om``); absent means ``m`` * nargs.
    """

    commands: frozenset[str]
    multicite: frozenset[str] = frozenset()
    wrappers: Mapping[str, tuple[int, int]] = field(default_factory=lambda: MappingProxyType({}))
    wrapper_signatures: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def signature(self, name: str) -> str:
        """Argument letters of wrapper ``name`` (``m``/``o``/``s``), as the scanner reads them."""
        sig = self.wrapper_signatures.get(name)
        return sig if sig is not None else "m" * self.wrappers[name][0]

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """Compiled regex finding ``\\name`` of any cite command of this syntax (group 1: the name)."""
        names = sorted(self.all_names(), key=len, reverse=True)
        return re.compile(r"\\(" + "|".join(map(re.escape, names)) + r")(?![A-Za-z@])")

    def is_cite(self, name: str) -> bool:
        """Whether ``\\name`` (no backslash, no star) is a citation in this syntax."""
        return name in self.commands or name in self.multicite or name in self.wrappers

    def all_names(self) -> frozenset[str]:
        """Every cite command name of this syntax."""
        return self.commands | self.multicite | frozenset(self.wrappers)

    def __hash__(self) -> int:  # the mappings are not hashable; hash their items so a syntax can key a cache
        return hash(
            (self.commands, self.multicite, tuple(sorted(self.wrappers.items())),
             tuple(sorted(self.wrapper_signatures.items())))
        )


_BASE_COMMANDS = (
    "cite citep citet citealp citealt citeauthor citeyear citeyearpar parencite textcite autocite footcite "
    "smartcite supercite citenum citetitle footcitetext "
    "Cite Citep Citet Parencite Textcite Autocite Footcite Smartcite Citeauthor Citealp Citealt"
).split()
_MULTICITE = (
    "cites parencites textcites autocites footcites smartcites supercites Cites Parencites Textcites Autocites "
    "Footcites Smartcites"
).split()

DEFAULT_CITE_SYNTAX = CiteSyntax(commands=frozenset(_BASE_COMMANDS), multicite=frozenset(_MULTICITE))
"""natbib + biblatex + plain LaTeX commands that take keys. ``\\nocite`` is deliberately absent: it cites nothing
at that place in the text."""

# --- finding user wrappers ------------------------------------------------------------------------------

_NAME = r"[A-Za-z@]+"
_NEWCOMMAND = re.compile(
    r"\\(?:(?:re)?newcommand|providecommand)\*?\s*(?:\{\s*\\(" + _NAME + r")\s*\}|\\(" + _NAME + r"))"
    r"\s*(?:\[\s*(\d)\s*\])?\s*(\[)?"
)
_ROBUST = re.compile(
    r"\\DeclareRobustCommand\*?\s*(?:\{\s*\\(" + _NAME + r")\s*\}|\\(" + _NAME + r"))"
    r"\s*(?:\[\s*(\d)\s*\])?\s*(\[)?"
)
_DEF = re.compile(r"\\[gex]?def\s*\\(" + _NAME + r")\s*((?:#\d\s*)*)\{")
_DOCCMD = re.compile(
    r"\\(?:New|Renew|Provide|Declare)DocumentCommand\s*(?:\{\s*\\(" + _NAME + r")\s*\}|\\(" + _NAME + r"))\s*\{"
)
_HASH_ARG = re.compile(r"^#(\d)$")


def _balanced(text: str, open_pos: int, open_ch: str = "{", close_ch: str = "}") -> int:
    """Index just after the bracket matching ``text[open_pos]``; -1 when unbalanced."""
    depth = 0
    i = open_pos
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == open_ch:
            depth += 1
        elif ch == close_ch:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _xparse_signature(spec: str) -> str:
    """Argument letters (``m``/``o``/``s``) of an xparse spec like ``s o m`` or ``O{} m``."""
    letters: list[str] = []
    i = 0
    while i < len(spec):
        ch = spec[i]
        if ch in "mMv":
            letters.append("m")
        elif ch in "oO":
            letters.append("o")
        elif ch == "s":
            letters.append("s")
        elif ch in "rRdDtbe":  # delimited/token args: not something a cite wrapper uses; give up on the spec
            return ""
        if ch in "O" and i + 1 < len(spec) and spec[i + 1] == "{":
            end = _balanced(spec, i + 1)
            i = end - 1 if end > 0 else len(spec)
        i += 1
    return "".join(letters)


_ARG_STANDIN = re.compile(r"#(\d)")
_STANDIN_KEY = re.compile(r"^startrefarg(\d)x$")


def _key_arg_of_body(body: str, base: CiteSyntax) -> int | None:
    """The ``n`` of the ``#n`` that a cite command in ``body`` uses as its keys, if any.

    ``#n`` is swapped for a key-like stand-in first, because find_cites rightly ignores ``\\cite{#1}`` as a
    citation of the document.
    """
    from .cites import find_cites  # local import: cites depends on this module

    for cite in find_cites(_ARG_STANDIN.sub(r"startrefarg\1x", body), base):
        for key in cite.keys:
            m = _STANDIN_KEY.match(key)
            if m and len(cite.keys) == 1:
                return int(m.group(1))
    return None


def _definitions(text: str) -> list[tuple[str, str, str]]:
    """Every macro definition in ``text`` outside comments as ``(name, signature letters, body)``."""
    from .cites import ignored_spans, in_spans

    spans = ignored_spans(text)
    starts = [a for a, _ in spans]

    def in_regions(_: object, pos: int) -> bool:
        return in_spans(spans, pos, starts)

    regions = None
    found: list[tuple[str, str, str]] = []
    for rx in (_NEWCOMMAND, _ROBUST):
        for m in rx.finditer(text):
            if in_regions(regions, m.start()):
                continue
            name = m.group(1) or m.group(2)
            nargs = int(m.group(3)) if m.group(3) else 0
            i = m.end()
            optional = 0
            if m.group(4):  # a default for #1: [..]
                end = _balanced(text, i - 1, "[", "]")
                if end < 0:
                    continue
                optional = 1
                i = end
            i = _skip_ws(text, i)
            if i >= len(text) or text[i] != "{":
                continue
            end = _balanced(text, i)
            if end > 0 and nargs >= optional:
                found.append((name, "o" * optional + "m" * (nargs - optional), text[i + 1 : end - 1]))
    for m in _DEF.finditer(text):
        if in_regions(regions, m.start()):
            continue
        end = _balanced(text, m.end() - 1)
        if end > 0:
            found.append((m.group(1), "m" * m.group(2).count("#"), text[m.end() : end - 1]))
    for m in _DOCCMD.finditer(text):
        if in_regions(regions, m.start()):
            continue
        spec_end = _balanced(text, m.end() - 1)
        if spec_end < 0:
            continue
        signature = _xparse_signature(text[m.end() : spec_end - 1])
        i = _skip_ws(text, spec_end)
        if i >= len(text) or text[i] != "{":
            continue
        end = _balanced(text, i)
        if end > 0:
            found.append((m.group(1) or m.group(2), signature, text[i + 1 : end - 1]))
    return found


def syntax_with_user_wrappers(text: str, base: CiteSyntax = DEFAULT_CITE_SYNTAX) -> CiteSyntax:
    """``base`` plus every macro defined in ``text`` whose body cites with one of its own args as the keys.

    Recognises ``\\newcommand`` (also ``\\renewcommand``, ``\\providecommand``, starred, braced or not, with an
    optional-arg default), ``\\DeclareRobustCommand``, ``\\def\\x#1{..}`` and ``\\NewDocumentCommand``. Wrappers of
    wrappers are found too. Redefinitions of an existing cite command keep it as it is.
    """
    if "ommand" not in text and "def" not in text:  # \newcommand, \DeclareRobustCommand, \def: cheap early exit
        return base
    definitions = _definitions(text)
    if not definitions:
        return base
    wrappers = dict(base.wrappers)
    signatures = dict(base.wrapper_signatures)
    syntax = base
    for _ in range(3):  # a wrapper of a wrapper needs a second pass
        added = False
        for name, signature, body in definitions:
            if not signature or "m" not in signature or syntax.is_cite(name) or name in wrappers:
                continue
            key_arg = _key_arg_of_body(body, syntax)
            if key_arg is None or key_arg > len(signature) or signature[key_arg - 1] != "m":
                continue
            wrappers[name] = (len(signature), key_arg)
            signatures[name] = signature
            added = True
        if not added:
            break
        syntax = CiteSyntax(
            commands=base.commands,
            multicite=base.multicite,
            wrappers=MappingProxyType(dict(wrappers)),
            wrapper_signatures=MappingProxyType(dict(signatures)),
        )
    return syntax
