"""A fast, approximate LaTeX-to-words pass for text that only feeds word and embedding features.

Why beside ``plaintext``: the ranker looks at the words around *every* earlier citation of a document (hundreds
per request on a thesis); pylatexenc is exact but costs milliseconds per window. Here a handful of regexes drop
comments, math, cite/ref/label commands and command names while keeping the words of their arguments.
"""

from __future__ import annotations

import re

__all__ = ["quick_text"]

_COMMENT = re.compile(r"(?<!\\)%[^\n]*")
_DISPLAY_MATH = re.compile(r"\$\$.*?\$\$|\\\[.*?\\\]|\\begin\{(equation|align|gather|multline|eqnarray)\*?\}.*?\\end\{\1\*?\}", re.S)
_INLINE_MATH = re.compile(r"\$[^$]{0,200}\$|\\\(.*?\\\)", re.S)
_DROP_WITH_ARGS = re.compile(
    r"\\(?:[A-Za-z]*cite[A-Za-z]*|nocite|ref|eqref|autoref|cref|Cref|label|pageref|url|includegraphics|"
    r"bibliography|bibliographystyle|addbibresource|input|include|begin|end|vspace|hspace|footnotemark)\*?"
    r"(?:\s*\[[^\]]*\])*(?:\s*\{[^{}]*\})*"
)
_COMMAND = re.compile(r"\\[A-Za-z@]+\*?|\\.")
_BRACES = re.compile(r"[{}~]")
_SPACES = re.compile(r"\s+")


def quick_text(latex: str) -> str:
    """Words of ``latex`` with markup removed; cite commands vanish entirely (no keys leak into features)."""
    text = _COMMENT.sub(" ", latex)
    text = _DISPLAY_MATH.sub(" ", text)
    text = _INLINE_MATH.sub(" ", text)
    text = _DROP_WITH_ARGS.sub(" ", text)
    text = _COMMAND.sub(" ", text)
    text = _BRACES.sub(" ", text)
    return _SPACES.sub(" ", text).strip()
