"""LaTeX windows to plain text for language models, with each cite rendered as the model expects.

Why: a causal LM like Galactica was trained on text where a citation reads ``[START_REF] Title, Author[END_REF]``,
not ``\\citep[see][]{smith2020}``; feeding it raw LaTeX (or thousands of characters of an ``align``) wastes its
context and hurts its guesses. pylatexenc does the LaTeX->Unicode work on a few-KB window; cites and math are
swapped for private-use sentinels first so pylatexenc never sees (or mangles) them, and bad LaTeX falls back to a
regex strip instead of raising.
"""

from __future__ import annotations

import logging
import re
from typing import Callable

from .cites import CiteCommand, comment_spans, find_cites
from .commands import DEFAULT_CITE_SYNTAX, CiteSyntax

__all__ = ["to_plain_text", "galactica_ref", "MATH_PLACEHOLDER"]

MATH_PLACEHOLDER = "[MATH]"
"""What a long formula becomes; short inline math keeps its (converted) content, e.g. ``$x^2$`` -> ``x^2``."""

_MAX_MATH_CHARS = 80
_CITE_OPEN, _CITE_CLOSE = "\ue000", "\ue001"
_MATH_OPEN, _MATH_CLOSE = "\ue002", "\ue003"
_REMOVED = "\ue004"
_SENTINEL = re.compile("\ue000(\\d+)\ue001|\ue002(\\d+)\ue003")

_MATH = re.compile(
    r"\$\$(?P<dd>.*?)\$\$"
    r"|\\\[(?P<db>.*?)\\\]"
    r"|\\begin\s*\{(?P<env>equation|align|gather|multline|eqnarray|displaymath|math|flalign|alignat)(?P<star>\*?)\}"
    r"(?P<de>.*?)\\end\s*\{(?P=env)(?P=star)\}"
    r"|(?<!\\)\$(?P<i>(?:\\.|[^$\\])*?)\$"
    r"|\\\((?P<ip>.*?)\\\)",
    re.S,
)
_DROP = re.compile(
    r"[ \t~]*\\(?:label|ref|eqref|autoref|cref|Cref|pageref|nameref|vref|nocite|bibliographystyle|bibliography|"
    r"addbibresource)\*?\s*(?:\[[^\]]*\]\s*)?\{[^{}]*\}"
)
_BRACE = re.compile(r"\\.|[{}]", re.S)
_FALLBACK_CMD = re.compile(r"\\[A-Za-z@]+\*?(?:\s*\[[^\]]*\])?|\\.")
_SPACES = re.compile(r"[ \t]{2,}")
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")
_CONVERTER = None


def galactica_ref(title: str, first_author: str) -> str:
    """Galactica's citation text: ``[START_REF] Title, Author[END_REF]`` (space after the opening tag only)."""
    title = " ".join(title.split())
    first_author = " ".join(first_author.split())
    body = f"{title}, {first_author}" if first_author else title
    return f"[START_REF] {body}[END_REF]"


def _last_arg(fmt: str) -> Callable[..., str]:
    """A pylatexenc replacement writing the macro's last argument through ``fmt`` (``\\section[s]{Long}`` -> Long)."""

    def repl(n, l2tobj):  # type: ignore[no-untyped-def]  # pylatexenc passes l2tobj by this name
        args = [a for a in (n.nodeargd.argnlist if n.nodeargd else []) if a is not None]
        return fmt % (l2tobj.nodelist_to_text([args[-1]]).strip() if args else "")

    return repl


def _converter():  # type: ignore[no-untyped-def]
    """One shared pylatexenc converter (building its macro tables costs more than converting a window).

    Headings become their plain title (pylatexenc's default is ``§ INTRO``) and footnotes ``(text)``, which reads
    like the prose a model was trained on; ``\\maketitle``/``\\today`` print nothing (not the run date).
    """
    global _CONVERTER
    if _CONVERTER is None:
        # a window cut mid-formula makes pylatexenc log "macro '\\frac' failed its substitution" on every call
        logging.getLogger("pylatexenc.latex2text").setLevel(logging.ERROR)
        from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

        db = get_default_latex_context_db()
        headings = ("part", "chapter", "section", "subsection", "subsubsection", "paragraph", "subparagraph")
        db.add_context_category(
            "startref",
            prepend=True,
            macros=[MacroTextSpec(h, simplify_repl=_last_arg("\n\n%s\n\n")) for h in headings]
            + [MacroTextSpec("footnote", simplify_repl=_last_arg(" (%s)"))]
            # pylatexenc prints a title block with *today's* date for these: noise for a model
            + [MacroTextSpec(m, simplify_repl="") for m in ("maketitle", "today", "date")],
        )
        _CONVERTER = LatexNodes2Text(math_mode="text", latex_context=db, strict_latex_spaces=False)
    return _CONVERTER


def _fallback(latex: str) -> str:
    """Crude markup strip for input pylatexenc cannot take: drop command names and braces, keep words."""
    return _FALLBACK_CMD.sub(" ", latex).replace("{", " ").replace("}", " ").replace("~", " ")


def _convert(latex: str) -> str:
    try:
        return _converter().latex_to_text(latex)
    except Exception:  # pylatexenc raises assorted errors on broken input; words matter more than exactness
        return _fallback(latex)


def _balance_braces(latex: str) -> str:
    """Drop unmatched ``}`` and close unclosed ``{`` at the end: windows cut from a document start or end
    mid-group, and pylatexenc's recovery from that can swallow whole paragraphs."""
    out: list[str] = []
    depth = 0
    pos = 0
    for m in _BRACE.finditer(latex):
        ch = m.group()
        if ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                out.append(latex[pos : m.start()])
                pos = m.end()
                continue
            depth -= 1
    out.append(latex[pos:])
    return "".join(out) + "}" * depth


def _math_text(m: re.Match[str]) -> str:
    inline = m.group("i") is not None or m.group("ip") is not None
    body = next(g for g in (m.group("i"), m.group("ip"), m.group("dd"), m.group("db"), m.group("de")) if g is not None)
    body = body.strip()
    if len(body) > _MAX_MATH_CHARS or (not inline and "\n" in body):
        return MATH_PLACEHOLDER
    text = " ".join(_convert(body).split())
    return text if len(text) <= _MAX_MATH_CHARS else MATH_PLACEHOLDER


def to_plain_text(
    latex: str,
    cite_renderer: Callable[[CiteCommand], str] | None = None,
    syntax: CiteSyntax = DEFAULT_CITE_SYNTAX,
) -> str:
    """Plain Unicode text of a LaTeX window.

    Comments are dropped; each cite becomes ``cite_renderer(cite)`` (None, or an empty rendering, removes it with
    the space or ``~`` before it, so no double space or space before punctuation is left); ``\\ref``/``\\label``/
    ``\\eqref`` vanish; short math keeps its converted content, long math becomes ``[MATH]``. Never raises on
    unbalanced braces.
    """
    cites = find_cites(latex, syntax)
    rendered: list[str] = []
    edits: list[tuple[int, int, str]] = []
    for c in cites:
        text = cite_renderer(c) if cite_renderer is not None else ""
        start = c.start
        while start > 0 and latex[start - 1] in " \t~":
            start -= 1
        if text:
            rendered.append(text)
            lead = " " if start < c.start else ""
            edits.append((start, c.end, f"{lead}{_CITE_OPEN}{len(rendered) - 1}{_CITE_CLOSE}"))
        else:
            edits.append((start, c.end, _REMOVED))
    for a, b in comment_spans(latex):
        edits.append((a, b, ""))
    edits.sort()
    out: list[str] = []
    pos = 0
    for a, b, new in edits:
        if a < pos:  # a comment inside a cite's arguments: already gone with the cite
            continue
        out.append(latex[pos:a])
        out.append(new)
        pos = b
    out.append(latex[pos:])
    text = _DROP.sub("", "".join(out))

    maths: list[str] = []

    def stash_math(m: re.Match[str]) -> str:
        maths.append(_math_text(m))
        return f"{_MATH_OPEN}{len(maths) - 1}{_MATH_CLOSE}"

    text = _balance_braces(_MATH.sub(stash_math, text))
    converted = _convert(text)
    if converted.count(_CITE_OPEN) != len(rendered) or converted.count(_MATH_OPEN) != len(maths):
        converted = _fallback(text)  # pylatexenc dropped some text; keep every word rather than lose cites
    text = converted

    def restore(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return rendered[int(m.group(1))]
        return maths[int(m.group(2))]

    text = _SENTINEL.sub(restore, text)
    text = text.replace("\xa0", " ")
    text = re.sub(r"[ \t]*" + _REMOVED + r"+(?=[.,;:!?)\]]|\s*$)", "", text)
    text = re.sub(r"(^|\n)[ \t]*" + _REMOVED + r"+[ \t]*", r"\1", text)
    text = re.sub(r"[ \t]*" + _REMOVED + r"+[ \t]*", " ", text)
    text = _SPACES.sub(" ", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()
