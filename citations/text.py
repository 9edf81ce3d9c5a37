"""Word-level text helpers shared by BM25 and the ranking features.

Why crude on purpose: contexts and titles are short; a stop-word list and plural folding catch most of what a
stemmer would, at no cost and with no extra dependency.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["STOPWORDS", "tokenize", "fold"]

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below between
    both but by can could did do does doing down during each et al few for from further had has have having he her here
    hers him his how i if in into is it its itself just me more most my no nor not now of off on once only or other our
    ours out over own same she should so some such than that the their theirs them then there these they this those
    through to too under until up very was we were what when where which while who whom why will with would you your
    using use used based via new show shows shown paper work works study studies approach method methods result results
    see e g eg i e ie cf fig figure table section eq equation ref refs et al thus however therefore within without one two
    first second well may many much several various different recent recently given proposed propose""".split()
)

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Lowercase, strip accents, fold simple English plurals: 'Networks' -> 'network', 'Schrödinger' -> 'schrodinger'."""
    w = unicodedata.normalize("NFKD", word.casefold())
    w = "".join(ch for ch in w if not unicodedata.combining(ch))
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    return w


def tokenize(text: str) -> list[str]:
    """Content words of ``text``, folded, without stop words, numbers of one digit or one-letter tokens."""
    out: list[str] = []
    for m in _WORD.finditer(text):
        w = fold(m.group())
        if len(w) < 2 or w in STOPWORDS:
            continue
        out.append(w)
    return out
