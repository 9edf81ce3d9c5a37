"""Citation keys for library entries that have none usable: ``author2016word``, as Better BibTeX's default.

Why: an entry appended to the paper's .bib needs a key that is unique there (compared case-insensitively, as
BibTeX does) and that a person recognises when reading ``\\cite{he2016deep}``. The library's own key is kept
whenever it is free; otherwise (no key, or the paper uses it for another work) one is made from the first
author's last name, the year and the first meaningful word of the title, with ``a``, ``b``… appended on a clash.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from startref.citations.bibindex import Entry
from startref.citations.normalize import normalize_key

__all__ = ["generate_key", "unique_key", "ascii_word"]

#: Words skipped when picking the title word (Better BibTeX's default skip list, in short).
_SKIP = frozenset(
    "a an the of on in at to for from by with and or but is are was were be as into onto via using towards toward "
    "about over under between without its it this that these those we our your their how what why when which".split()
)


def ascii_word(text: str) -> str:
    """Lower-case ASCII letters and digits of ``text`` (accents dropped: "Müller" -> "muller")."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    plain = plain.replace("ø", "o").replace("ł", "l").replace("ß", "ss").replace("æ", "ae")
    return re.sub(r"[^a-z0-9]", "", plain.lower())


def generate_key(entry: Entry) -> str:
    """``author2016word`` from the first author (or editor/organisation), year and first content word of the title."""
    author = ascii_word(entry.authors[0].split()[-1]) if entry.authors else ""
    if not author:
        author = "anon"
    year = entry.year[:4] if entry.year[:4].isdigit() else ""
    word = ""
    for token in re.findall(r"[^\W_]+", entry.title or ""):
        folded = ascii_word(token)
        if folded and folded not in _SKIP and not folded.isdigit():
            word = folded
            break
    return f"{author}{year}{word}"


def unique_key(wanted: str, taken: Callable[[str], bool]) -> str:
    """``wanted`` if free, else ``wanted`` + ``a``, ``b``, … ``z``, ``aa``… (``taken`` compares case-folded keys)."""
    if not taken(normalize_key(wanted)):
        return wanted
    n = 0
    while True:
        suffix = ""
        m = n
        while True:
            suffix = chr(ord("a") + m % 26) + suffix
            m = m // 26 - 1
            if m < 0:
                break
        candidate = wanted + suffix
        if not taken(normalize_key(candidate)):
            return candidate
        n += 1
