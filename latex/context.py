"""What surrounds the cursor, and the edit that inserts a chosen key there.

Why one place: the engine (what text to rank against), the editor (is the user typing inside ``\\cite{...}``?)
and the eval (leave-one-out at a real cite) all need the same answers, and the insertion rules -- reuse the
document's own cite command, add ``, `` inside an existing group, never duplicate a key -- must not be
re-invented per client.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .cites import CiteCommand, find_cites
from .commands import CiteSyntax, syntax_with_user_wrappers
from .errors import LatexInputError

__all__ = ["CursorContext", "cursor_context", "insertion_for", "dominant_command", "separator_style"]

_KEY_STOP = " \t\r\n,{}%\\"


@dataclass(frozen=True)
class CursorContext:
    """The cursor's surroundings in raw LaTeX.

    ``before``/``after`` are windows of raw text (``before`` cut at a line start where possible);
    ``inside_cite``/``inside_group`` are set when the cursor lies in a key brace group (including its edges, so
    ``\\cite{|}`` and ``\\cite{ab|}`` count); ``typed_prefix`` is the partial key typed there;
    ``earlier_cites`` are the cites starting before the cursor, without ``inside_cite``.
    """

    text: str
    cursor: int
    before: str
    after: str
    inside_cite: CiteCommand | None
    inside_group: tuple[int, int] | None
    typed_prefix: str
    dominant_command: str
    earlier_cites: tuple[CiteCommand, ...]
    separator: str = ", "
    syntax: CiteSyntax | None = None


def _real(cites: list[CiteCommand]) -> list[CiteCommand]:
    """Cites outside macro definitions (a ``\\newcommand`` body cites ``#1``, which is no key)."""
    return [c for c in cites if not any("#" in k for k in c.keys)]


def dominant_command(cites: list[CiteCommand], syntax: CiteSyntax) -> str:
    """Most frequent single-key-group cite command (ties: first seen); ``cite`` when there is none.

    Multicites are left out, and wrappers count only when ``\\name{key}`` alone is a valid call (one mandatory arg),
    because the result is used to write ``\\name{key}``.
    """
    counts: Counter[str] = Counter()
    for c in cites:
        if c.command in syntax.multicite:
            continue
        if c.command in syntax.wrappers and syntax.signature(c.command).count("m") != 1:
            continue
        counts[c.command] += 1
    return counts.most_common(1)[0][0] if counts else "cite"


def separator_style(text: str, cites: list[CiteCommand]) -> str:
    """``", "`` or ``","``: how this document separates keys in one group (majority; ``", "`` by default)."""
    spaced = tight = 0
    for c in cites:
        for a, b in c.groups:
            seg = text[a:b]
            spaced += seg.count(", ") + seg.count(",\n")
            tight += seg.count(",") - seg.count(", ") - seg.count(",\n")
    return "," if tight > spaced else ", "


def _window_before(text: str, cursor: int, chars: int) -> str:
    start = max(0, cursor - chars)
    if start > 0:
        nl = text.find("\n", start, cursor)
        if nl >= 0 and nl - start < chars // 2:
            start = nl + 1
    return text[start:cursor]


def cursor_context(
    text: str,
    cursor: int,
    syntax: CiteSyntax | None = None,
    before_chars: int = 1500,
    after_chars: int = 600,
    cites: list[CiteCommand] | None = None,
) -> CursorContext:
    """The context of ``cursor`` (a code-point offset into ``text``).

    ``syntax`` None means the default commands plus the user wrappers defined in ``text``. ``cites`` may pass
    ``find_cites(text, syntax)`` when the caller already has it (the eval asks for many cursors in one text).
    """
    if cursor < 0 or cursor > len(text):
        raise LatexInputError(
            f"cursor {cursor} outside the text (length {len(text)})", code=LatexInputError.CURSOR_OUT_OF_RANGE
        )
    if syntax is None:
        syntax = syntax_with_user_wrappers(text)
    all_cites = _real(find_cites(text, syntax) if cites is None else cites)
    inside: CiteCommand | None = None
    group: tuple[int, int] | None = None
    earlier: list[CiteCommand] = []
    for c in all_cites:
        if c.start >= cursor:
            break
        if inside is None:
            for a, b in c.groups:
                if a <= cursor <= b:
                    inside, group = c, (a, b)
                    break
            if inside is c:
                continue
        earlier.append(c)
    prefix = ""
    if group is not None:
        seg_start = max(text.rfind(",", group[0], cursor) + 1, group[0])
        seg = text[seg_start:cursor]
        k = len(seg)
        while k > 0 and seg[k - 1] not in " \t\r\n":
            k -= 1
        prefix = seg[k:]
    return CursorContext(
        text=text,
        cursor=cursor,
        before=_window_before(text, cursor, before_chars),
        after=text[cursor : cursor + after_chars],
        inside_cite=inside,
        inside_group=group,
        typed_prefix=prefix,
        dominant_command=dominant_command(all_cites, syntax),
        earlier_cites=tuple(earlier),
        separator=separator_style(text, all_cites),
        syntax=syntax,
    )


def insertion_for(ctx: CursorContext, key: str, command: str | None = None) -> tuple[int, int, str]:
    """The edit ``(start, end, new_text)`` that puts ``key`` at the cursor.

    Outside a cite: ``\\command{key}`` at the cursor (``command`` or the document's dominant one). Inside a key
    group: the partial key under the cursor (typed prefix plus any key characters right after the cursor) is
    replaced by ``key``, with the document's separator when keys precede it and no comma does. A key already in
    that cite gives the no-op edit ``(cursor, cursor, "")``.
    """
    text, cursor = ctx.text, ctx.cursor
    if ctx.inside_cite is None or ctx.inside_group is None:
        return cursor, cursor, f"\\{command or ctx.dominant_command}{{{key}}}"
    g_start, g_end = ctx.inside_group
    start = cursor - len(ctx.typed_prefix)
    end = cursor
    while end < g_end and text[end] not in _KEY_STOP:
        end += 1
    current = text[start:end]
    others = [k for k, (a, _) in zip(ctx.inside_cite.keys, ctx.inside_cite.key_spans) if a != start]
    if key in others or current == key:
        return cursor, cursor, ""
    before = text[g_start:start]
    stripped = before.rstrip()
    if not stripped or stripped.endswith(","):
        if stripped and before == stripped and ctx.separator.endswith(" "):
            return start, end, " " + key  # ``{a,|}`` -> ``{a, key}`` in a spaced document
        return start, end, key
    # keys precede and no comma: ``{a |}`` -> ``{a, key}``
    return g_start + len(stripped), end, ctx.separator + key
