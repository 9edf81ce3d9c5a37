"""How one bibliography entry reads in an editor: a one-line detail and a markdown card.

Why shared: the completion menu, its documentation popup and hover all show the same entry; writing it once
keeps them alike (texlab renders its citation previews in one place too). Plain strings only -- the protocol
layer decides where they go.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from startref.citations.bibindex import Entry

__all__ = ["detail_line", "entry_markdown", "short_label", "filter_text"]


def _authors_full(entry: Entry, limit: int = 8) -> str:
    names = list(entry.authors)
    if len(names) > limit:
        return ", ".join(names[:limit]) + " et al."
    return ", ".join(names)


def detail_line(entry: Entry) -> str:
    """``Title — Authors (Year)``: what a completion menu shows beside the key."""
    title = entry.title or "(no title)"
    tail = entry.author_text or ""
    year = f" ({entry.year})" if entry.year else ""
    return f"{title} — {tail}{year}" if tail else f"{title}{year}"


def short_label(entry: Entry) -> str:
    """``<title> (<first author> <year>)``, the text of a "Cite: ..." code action."""
    title = entry.title or entry.key
    if len(title) > 70:
        title = title[:67].rstrip() + "..."
    who = " ".join(part for part in (entry.first_author, entry.year) if part)
    return f"{title} ({who})" if who else title


def filter_text(entry: Entry) -> str:
    """Key, title words and author names: typing a word of the title or an author keeps the entry in the menu."""
    return " ".join(part for part in (entry.key, entry.title, " ".join(entry.authors)) if part)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def entry_markdown(entry: Entry, *, why: str = "", candidate: Any = None, with_place: bool = True) -> str:
    """The entry as a markdown card: title, authors, venue, year, DOI/arXiv/URL links, the *why*, where it is defined.

    ``candidate`` is the engine's ``Candidate`` when there is one; library fields it may carry (``in_bib``,
    ``source``: whether the entry is already in the .bib and where it comes from) are shown when present.
    """
    card = _card(entry)
    extra: list[str] = []
    if why:
        extra += ["", f"*Why:* {_md_escape(why)}"]
    source = getattr(candidate, "source", None)
    in_bib = getattr(candidate, "in_bib", None)
    if in_bib is False:
        extra += ["", f"*Not in your .bib yet* (from {_md_escape(str(source or 'your library'))}); citing it adds it."]
    elif source:
        extra += ["", f"*Source:* {_md_escape(str(source))}"]
    if with_place and entry.file:
        extra += ["", f"`{entry.key}` · {_md_escape(entry.file)}:{entry.line}"]
    return (card + "\n" + "\n".join(extra)).strip()


@lru_cache(maxsize=65536)
def _card(entry: Entry) -> str:
    """Title, authors, venue/year and links: the part that does not depend on the cursor (cached per entry, so a
    28k-entry library is formatted once, not on every keystroke)."""
    lines = [f"**{_md_escape(entry.title or entry.key)}**", ""]
    authors = _authors_full(entry)
    if authors:
        lines.append(_md_escape(authors))
    meta = " · ".join(_md_escape(part) for part in (entry.venue, entry.year) if part)
    if meta:
        lines.append(meta)
    links: list[str] = []
    if entry.doi:
        links.append(f"[doi:{entry.doi}](https://doi.org/{entry.doi})")
    if entry.arxiv_id:
        links.append(f"[arXiv:{entry.arxiv_id}](https://arxiv.org/abs/{entry.arxiv_id})")
    if entry.url and not links:
        links.append(f"<{entry.url}>")
    if links:
        lines += ["", " · ".join(links)]
    return "\n".join(lines)
