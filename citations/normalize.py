"""Text normalisation shared by the bibliography index and the resolver.

Why a module of its own: the index and the resolver must normalise *identically* (a title decoded one way when
indexing and another way when resolving never matches), so both call these functions and nothing else.

``latex_to_unicode`` is on the hot path (every title, author and venue of a 10k-entry bibliography), and
pylatexenc costs ~0.5 ms a call, so plain strings and the common accent macros take a regex fast path and only
what is left with a backslash or ``$`` goes to pylatexenc.
"""

from __future__ import annotations

import re
import threading
import unicodedata

from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names

__all__ = [
    "latex_to_unicode",
    "normalize_title",
    "normalize_key",
    "last_names",
    "first_author_last_name",
    "find_doi",
    "find_arxiv_id",
    "find_urls",
    "normalize_url",
]

_ACCENTS = {
    '"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
    "r": "\u030a", "d": "\u0323", "b": "\u0331",
}
_LETTERS = {
    "o": "ø", "O": "Ø", "ss": "ß", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "l": "ł", "L": "Ł",
    "aa": "å", "AA": "Å", "i": "ı", "j": "ȷ", "&": "&", "%": "%", "_": "_", "#": "#", "$": "$",
}
# \"u  \"{u}  {\"u}  \'{\i}  \v C  — symbol accents need no space, letter accents (\v, \c ...) need one or a brace.
_ACCENT_RE = re.compile(
    r"""\{?\\(?:([\"'`^~=.])\s*|([uvHckrdb])(?:\s+|(?=\{)))\{?\s*(\\[ij]\b\s*|[A-Za-z])\}?\}?"""
)
_LETTER_RE = re.compile(r"\\(ss|ae|AE|oe|OE|aa|AA|[oOlLij])(?![A-Za-z])\s*")
_SPECIAL_RE = re.compile(r"\\([&%_#$])")
_NEEDS_PARSER_RE = re.compile(r"\\(?![&%_#$])|(?<!\\)\$")
_TEXTCMD_RE = re.compile(r"\\(?:textit|textbf|textrm|textsf|texttt|textsc|textup|textnormal|emph|mbox|text|mathrm)\s*\{")
_SPACES_RE = re.compile(r"\s+")
_FALLBACK_CMD_RE = re.compile(r"\\[A-Za-z]+\*?|\\.")
_PUNCT_RE = re.compile(r"[\W_]+", re.UNICODE)

_tls = threading.local()


def _latex_nodes_to_text():  # type: ignore[no-untyped-def]
    """One pylatexenc converter per thread: construction is costly, and its walker is not documented thread-safe."""
    conv = getattr(_tls, "conv", None)
    if conv is None:
        from pylatexenc.latex2text import LatexNodes2Text

        conv = LatexNodes2Text(math_mode="text", strict_latex_spaces=False, keep_comments=False)
        _tls.conv = conv
    return conv


def _accent(m: re.Match[str]) -> str:
    mark = _ACCENTS[m.group(1) or m.group(2)]
    base = m.group(3).strip()
    if base.startswith("\\"):
        base = base[1:]  # dotless \i / \j: the combining mark goes on a plain i / j
    return unicodedata.normalize("NFC", base + mark)


def _letter(m: re.Match[str]) -> str:
    return _LETTERS[m.group(1)]


def _plain(s: str) -> str:
    """Finish a string that has no LaTeX macros left: dashes, ties, braces, whitespace."""
    s = s.replace("---", "\u2014").replace("--", "\u2013").replace("~", " ").replace("\xa0", " ")
    s = s.replace("{", "").replace("}", "").replace("``", "\u201c").replace("''", "\u201d")
    return _SPACES_RE.sub(" ", s).strip()


def latex_to_unicode(s: str) -> str:
    """Decode BibTeX/LaTeX field text to plain Unicode (``{\\"u}ber`` -> ``über``, ``{BERT}`` -> ``BERT``).

    Never raises: text that pylatexenc cannot handle falls back to stripping macros and braces, because a
    slightly ugly title is still matchable and an exception would drop the whole entry.
    """
    if not s:
        return ""
    if "\\" in s:
        s = _ACCENT_RE.sub(_accent, s)
        s = _LETTER_RE.sub(_letter, s)
        s = _TEXTCMD_RE.sub("{", s)
    if not _NEEDS_PARSER_RE.search(s):
        return _plain(_SPECIAL_RE.sub(r"\1", s))
    try:
        out = _latex_nodes_to_text().latex_to_text(s)
    except Exception:  # pylatexenc raises assorted errors on malformed input; any of them means "fallback"
        out = _FALLBACK_CMD_RE.sub(" ", s).replace("$", "")
    return _plain(out)


def normalize_title(s: str) -> str:
    """The matching form of a title: decoded, accents dropped, casefolded, punctuation to single spaces.

    ``{\\"U}ber {BERT}: a Study`` -> ``uber bert a study``. Dropping accents (not transliterating) makes
    ``über``, ``{\\"u}ber`` and ``uber`` equal, which is what people type.
    """
    text = unicodedata.normalize("NFKD", latex_to_unicode(s))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("ø", "o").replace("Ø", "O").replace("ł", "l").replace("Ł", "L").replace("ß", "ss")
    return _SPACES_RE.sub(" ", _PUNCT_RE.sub(" ", text.casefold())).strip()


def normalize_key(s: str) -> str:
    """Case-insensitive form of a citation key (BibTeX itself treats keys differing only in case as one)."""
    return s.strip().casefold()


def last_names(author_field: str) -> list[str]:
    """Last names (with their "von" part) of a BibTeX ``author``/``editor`` field, decoded to Unicode.

    ``M{\\"u}ller, Hans and Ludwig van Beethoven and {NASA Collaboration} and others``
    -> ``["Müller", "van Beethoven", "NASA Collaboration"]``. ``others`` is dropped: it is not a person.
    Uses bibtexparser's BibTeX-compatible splitting; a name it cannot parse is kept whole rather than lost.
    """
    if not author_field or not author_field.strip():
        return []
    try:
        names = split_multiple_persons_names(author_field)
    except Exception:
        names = re.split(r"\s+and\s+", author_field)
    out: list[str] = []
    for name in names:
        name = name.strip()
        if not name or name.casefold() == "others":
            continue
        try:
            parts = parse_single_name_into_parts(name, strict=False)
            last = " ".join(parts.von + parts.last) or " ".join(parts.first)
        except Exception:
            last = name.split(",")[0] if "," in name else name.split()[-1]
        decoded = latex_to_unicode(last)
        if decoded:
            out.append(decoded)
    return out


def first_author_last_name(author_field: str) -> str:
    """The first author's last name, or ``""`` when there is no author (e.g. a software manual)."""
    names = last_names(author_field)
    return names[0] if names else ""


# --- identifiers: the same extraction for bib fields and for generated text -------------------------------------

_DOI_RE = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>{}]+)", re.IGNORECASE)
_ARXIV_NEW_RE = re.compile(r"(?<!\d)(?<!\d\.)(\d{4}\.\d{4,5})(?:v\d+)?(?![\d])")
_ARXIV_OLD_RE = re.compile(r"(?<![\w.-])([a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?(?!\d)")
_URL_RE = re.compile(r"https?://[^\s\"<>{}]+|www\.[^\s\"<>{}]+", re.IGNORECASE)


def find_doi(text: str) -> str:
    """The first DOI in ``text`` (bare, ``doi:``, or a doi.org URL), lower-cased, trailing punctuation removed.

    DOIs are case-insensitive by definition, so lower-case is their canonical form for lookups.
    """
    if not text:
        return ""
    m = _DOI_RE.search(text.replace("\\_", "_"))
    if not m:
        return ""
    return m.group(1).rstrip(".,;:)]}'").lower()


def find_arxiv_id(text: str) -> str:
    """The first arXiv identifier in ``text``, without its version: ``arXiv:1706.03762v2`` -> ``1706.03762``,
    ``https://arxiv.org/pdf/hep-th/9901001v1`` -> ``hep-th/9901001``; ``""`` when there is none.

    Old-style ids (``hep-th/9901001``) are recognised anywhere; new-style (``1706.03762``) too, since a number of
    that exact shape is rarely anything else in a title or a bib field.
    """
    if not text:
        return ""
    m = _ARXIV_OLD_RE.search(text)
    n = _ARXIV_NEW_RE.search(text)
    if m and (not n or m.start() < n.start()):
        return m.group(1)
    return n.group(1) if n else ""


def normalize_url(url: str) -> str:
    """Compare-form of a URL: no scheme, no ``www.``, lower-case host, no trailing slash or ``.pdf``-less noise."""
    u = url.strip().strip("{}<>").replace("\\_", "_").replace("\\%", "%").replace("\\#", "#")
    u = re.sub(r"^[a-z]+://", "", u, flags=re.IGNORECASE)
    u = re.sub(r"^www\.", "", u, flags=re.IGNORECASE)
    host, _, rest = u.partition("/")
    return (host.lower() + ("/" + rest if rest else "")).rstrip("/")


def find_urls(text: str) -> list[str]:
    """All URLs in ``text``, in order (trailing punctuation removed)."""
    return [m.group(0).rstrip(".,;:)]}'") for m in _URL_RE.finditer(text or "")]
