"""Reading a Zotero library straight from its database (``zotero.sqlite``), without disturbing Zotero.

Why read the database: most people keep their papers in Zotero, and exporting a .bib after every addition is the
chore this feature removes. How, safely:
- the file is opened read-only and *immutable* (``file:…?mode=ro&immutable=1``): SQLite then takes no lock and
  writes nothing (no journal, no WAL index), so a running Zotero — which holds its database in exclusive locking
  mode — neither blocks us nor sees us; we read the last committed state;
- everything is read in one pass of plain SELECTs over the tables of Zotero's published schema
  (``resource/schema/userdata.sql`` and ``system.sql`` in github.com/zotero/zotero): ``items``, ``itemData`` +
  ``itemDataValues`` + ``fields``, ``itemCreators`` + ``creators`` + ``creatorTypes``, ``itemTypes``,
  ``deletedItems`` (items in the trash are skipped, as are notes, attachments and annotations);
- citation keys: Zotero 7's own ``citationKey`` field, else a ``Citation Key: …`` line in *Extra* (Better BibTeX's
  pinned keys), else Better BibTeX's key database (``better-bibtex.sqlite`` beside ``zotero.sqlite``), else
  ``author2016word``.
A file that is not a readable Zotero database raises ``LibraryError`` naming it; the caller goes on with the
paper's own .bib.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from startref.citations.library.errors import LibraryError

__all__ = ["ZoteroItem", "read_zotero", "to_bibtex_fields", "BIBTEX_TYPES"]

#: Zotero item type -> BibTeX entry type (the mapping of Zotero's own BibTeX export translator, in short).
BIBTEX_TYPES: dict[str, str] = {
    "journalArticle": "article", "magazineArticle": "article", "newspaperArticle": "article",
    "book": "book", "bookSection": "incollection", "encyclopediaArticle": "incollection",
    "dictionaryEntry": "incollection", "conferencePaper": "inproceedings", "thesis": "phdthesis",
    "report": "techreport", "manuscript": "unpublished", "preprint": "misc", "webpage": "misc",
    "blogPost": "misc", "computerProgram": "misc", "dataset": "misc", "document": "misc", "patent": "misc",
    "presentation": "misc", "letter": "misc", "standard": "misc",
}
_SKIPPED_TYPES = frozenset({"note", "attachment", "annotation"})
_ESCAPE = re.compile(r"(?<!\\)([&%#_$])")
_CITATION_KEY_LINE = re.compile(r"^\s*Citation Key\s*:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)
_ARXIV_LINE = re.compile(r"^\s*arXiv\s*:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)
_YEAR = re.compile(r"\b(\d{4})\b")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@dataclass(frozen=True)
class ZoteroItem:
    """One Zotero item as read: its type, field values by Zotero field name, creators as (type, last, first, mode)."""

    item_id: int
    key: str
    item_type: str
    fields: Mapping[str, str]
    creators: tuple[tuple[str, str, str, int], ...]
    citation_key: str = ""


def _connect(path: Path) -> sqlite3.Connection:
    uri = f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


def _table(con: sqlite3.Connection, *names: str) -> str:
    """The first of ``names`` that exists (``fieldsCombined`` holds custom fields too; older files lack it)."""
    have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    for name in names:
        if name in have:
            return name
    raise LibraryError("", f"no table {names[-1]!r}")


def _bbt_keys(zotero_path: Path) -> dict[int, str]:
    """Better BibTeX's citation keys by itemID, from ``better-bibtex.sqlite`` beside the Zotero database."""
    bbt = zotero_path.with_name("better-bibtex.sqlite")
    if not bbt.is_file():
        return {}
    try:
        con = _connect(bbt)
        try:
            return {int(i): str(k) for i, k in con.execute("SELECT itemID, citationKey FROM citationkey") if k}
        finally:
            con.close()
    except sqlite3.Error:
        return {}  # an unreadable BBT database only costs us its keys


def read_zotero(path: str | Path) -> list[ZoteroItem]:
    """Every regular item of the Zotero database at ``path`` (not notes, attachments or trashed items)."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise LibraryError(str(path), "Zotero database not found", code="library_not_found")
    try:
        con = _connect(p)
    except sqlite3.Error as err:
        raise LibraryError(str(path), f"cannot open the Zotero database: {err}") from None
    try:
        try:
            types_t = _table(con, "itemTypesCombined", "itemTypes")
            fields_t = _table(con, "fieldsCombined", "fields")
            items = list(con.execute(
                f"SELECT i.itemID, i.key, t.typeName FROM items i JOIN {types_t} t ON t.itemTypeID = i.itemTypeID "
                "WHERE i.itemID NOT IN (SELECT itemID FROM deletedItems) ORDER BY i.itemID"))
            data: dict[int, dict[str, str]] = {}
            for item_id, name, value in con.execute(
                    f"SELECT d.itemID, f.fieldName, v.value FROM itemData d JOIN {fields_t} f ON f.fieldID = d.fieldID "
                    "JOIN itemDataValues v ON v.valueID = d.valueID"):
                data.setdefault(int(item_id), {})[str(name)] = "" if value is None else str(value)
            creators: dict[int, list[tuple[str, str, str, int]]] = {}
            for item_id, ctype, last, first, mode in con.execute(
                    "SELECT ic.itemID, ct.creatorType, c.lastName, c.firstName, c.fieldMode FROM itemCreators ic "
                    "JOIN creators c ON c.creatorID = ic.creatorID "
                    "JOIN creatorTypes ct ON ct.creatorTypeID = ic.creatorTypeID ORDER BY ic.itemID, ic.orderIndex"):
                creators.setdefault(int(item_id), []).append((str(ctype), last or "", first or "", int(mode or 0)))
        except LibraryError as err:
            raise LibraryError(str(path), f"not a Zotero database ({err.message})") from None
        except sqlite3.Error as err:
            raise LibraryError(str(path), f"not a readable Zotero database ({err})") from None
    finally:
        con.close()
    bbt = _bbt_keys(p)
    out: list[ZoteroItem] = []
    for item_id, key, type_name in items:
        if type_name in _SKIPPED_TYPES:
            continue
        fields = data.get(int(item_id), {})
        extra = fields.get("extra", "")
        m = _CITATION_KEY_LINE.search(extra)
        cite_key = fields.get("citationKey", "") or (m.group(1) if m else "") or bbt.get(int(item_id), "")
        out.append(ZoteroItem(int(item_id), str(key), str(type_name), fields,
                              tuple(creators.get(int(item_id), ())), cite_key))
    return out


def _tex(value: str) -> str:
    """A Zotero value (plain text) as BibTeX field text: TeX specials escaped, braces kept balanced."""
    value = _ESCAPE.sub(r"\\\1", value.replace("\\", "\\textbackslash{}"))
    return value.replace("{", "\\{").replace("}", "\\}").replace("\\textbackslash\\{\\}", "\\textbackslash{}")


def _names(creators: Iterable[tuple[str, str, str, int]], kind: str) -> str:
    out: list[str] = []
    for ctype, last, first, mode in creators:
        if ctype != kind:
            continue
        if mode == 1 or not first:  # a one-field name (an organisation): braced so BibTeX keeps it whole
            out.append("{" + _tex(last) + "}")
        else:
            out.append(f"{_tex(last)}, {_tex(first)}")
    return " and ".join(out)


def to_bibtex_fields(item: ZoteroItem) -> tuple[str, dict[str, str]]:
    """The BibTeX entry type and fields (raw BibTeX values, without outer braces) for a Zotero item."""
    f = item.fields
    etype = BIBTEX_TYPES.get(item.item_type, "misc")
    if etype == "phdthesis" and "master" in f.get("thesisType", "").lower():
        etype = "mastersthesis"
    out: dict[str, str] = {}
    authors = _names(item.creators, "author") or _names(item.creators, "contributor")
    if authors:
        out["author"] = authors
    editors = _names(item.creators, "editor")
    if editors:
        out["editor"] = editors
    if f.get("title"):
        out["title"] = _tex(f["title"])
    venue = f.get("publicationTitle", "") or f.get("bookTitle", "") or f.get("proceedingsTitle", "")
    if etype == "article" and venue:
        out["journal"] = _tex(venue)
    elif etype in ("incollection", "inproceedings") and (venue or f.get("conferenceName")):
        out["booktitle"] = _tex(venue or f["conferenceName"])
    elif venue or f.get("websiteTitle") or f.get("repository"):
        out["howpublished"] = _tex(venue or f.get("websiteTitle", "") or f.get("repository", ""))
    date = f.get("date", "")
    year = _YEAR.search(date)
    if year:
        out["year"] = year.group(1)
        month = re.match(r"^\d{4}-(\d{2})", date)
        if month and 1 <= int(month.group(1)) <= 12:
            out["month"] = _MONTHS[int(month.group(1)) - 1]
    simple = {"volume": "volume", "issue": "number", "pages": "pages", "series": "series", "edition": "edition",
              "place": "address", "ISBN": "isbn", "ISSN": "issn", "abstractNote": "abstract", "language": "language"}
    for zname, bname in simple.items():
        if f.get(zname):
            out[bname] = _tex(f[zname])
    if f.get("publisher"):
        key = {"phdthesis": "school", "mastersthesis": "school", "techreport": "institution"}.get(etype, "publisher")
        out[key] = _tex(f["publisher"])
    if f.get("university"):
        out["school"] = _tex(f["university"])
    if f.get("institution"):
        out["institution"] = _tex(f["institution"])
    if f.get("reportNumber") or f.get("number"):
        out["number"] = _tex(f.get("reportNumber") or f["number"])
    if f.get("DOI"):
        out["doi"] = f["DOI"].strip()
    if f.get("url"):
        out["url"] = f["url"].strip()
    archive_id = f.get("archiveID", "")
    arxiv = _ARXIV_LINE.search(f.get("extra", ""))
    if archive_id.lower().startswith("arxiv:") or arxiv:
        out["eprint"] = archive_id.split(":", 1)[1].strip() if archive_id else arxiv.group(1)  # type: ignore[union-attr]
        out["archiveprefix"] = "arXiv"
    return etype, out
