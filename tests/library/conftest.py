"""Fixtures for the library tests: a real library .bib merged from ``shared/train`` papers, and a real Zotero
database built from Zotero's published schema (``data/zotero_schema_subset.sql``) filled with real entries."""

from __future__ import annotations

import os
import sqlite3
import string
from pathlib import Path

import pytest
from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names

from startref.citations.bibindex import Entry, load_bibliography

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = Path(os.environ.get("STARTREF_SHARED", REPO_ROOT.parent / "shared")).resolve()

TRAIN = SHARED_DIR / "train" / "papers"
SCHEMA = Path(__file__).parent / "data" / "zotero_schema_subset.sql"
#: Three training papers whose .bib files together hold a few hundred real entries (machine learning, astronomy).
LIBRARY_PAPERS = ("BjoernBiltzinger__pyspi_grb_paper",)

ZOTERO_TYPES = {"article": 4, "book": 2, "incollection": 3, "inproceedings": 33, "phdthesis": 7, "techreport": 15}
ZOTERO_FIELDS = {"title": 110, "date": 14, "DOI": 26, "publicationTitle": 12, "url": 1, "volume": 4, "pages": 10,
                 "extra": 22, "proceedingsTitle": 114, "bookTitle": 115, "publisher": 8, "university": 89}


@pytest.fixture(scope="session")
def train_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One .bib concatenated from real training papers' bibliographies (as a personal library .bib is)."""
    assert TRAIN.is_dir(), f"training papers not found at {TRAIN} (set STARTREF_SHARED)"
    parts: list[bytes] = []
    for name in LIBRARY_PAPERS:
        for bib in sorted((TRAIN / name).rglob("*.bib")):
            parts.append(bib.read_bytes())
    assert parts, "no .bib found in the library papers"
    out = tmp_path_factory.mktemp("library") / "library.bib"
    out.write_bytes(b"\n".join(parts))
    return out


def _creators(field: str) -> list[tuple[str, str, int]]:
    out = []
    for name in split_multiple_persons_names(field):
        if name.strip().lower() == "others":
            continue
        parts = parse_single_name_into_parts(name, strict=False)
        last = " ".join(parts.von + parts.last).strip("{}")
        first = " ".join(parts.first).strip("{}")
        out.append((last, first, 0 if first else 1))
    return out


def build_zotero(path: Path, entries: list[Entry], *, pinned_keys: bool = True) -> Path:
    """A zotero.sqlite made with Zotero's schema and filled with ``entries`` (real ones), plus a note, an
    attachment and a trashed item that a reader must skip. Every other entry carries Better BibTeX's pinned
    ``Citation Key:`` line in Extra (when ``pinned_keys``)."""
    con = sqlite3.connect(path)
    con.executescript(SCHEMA.read_text(encoding="utf-8"))
    con.execute("INSERT INTO itemTypesCombined SELECT itemTypeID, typeName, display, 0 FROM itemTypes")
    con.execute("INSERT INTO fieldsCombined SELECT fieldID, fieldName, NULL, fieldFormatID, 0 FROM fields")
    con.execute("INSERT INTO libraries (libraryID, type, editable, filesEditable) VALUES (1, 'user', 1, 1)")
    con.execute("INSERT INTO version VALUES ('userdata', 107)")
    values: dict[str, int] = {}
    creators: dict[tuple[str, str, int], int] = {}

    def value_id(v: str) -> int:
        if v not in values:
            values[v] = con.execute("INSERT INTO itemDataValues (value) VALUES (?)", (v,)).lastrowid or 0
        return values[v]

    def zkey(n: int) -> str:
        alphabet = string.ascii_uppercase[:8] + "23456789"
        return "".join(alphabet[(n >> (4 * i)) % 16] for i in range(8))

    item_id = 0
    for n, e in enumerate(entries):
        item_id += 1
        type_id = ZOTERO_TYPES.get(e.entry_type, 34)
        con.execute("INSERT INTO items (itemID, itemTypeID, libraryID, key) VALUES (?, ?, 1, ?)",
                    (item_id, type_id, zkey(item_id)))
        data = {"title": e.title, "date": e.fields.get("year", ""), "DOI": e.doi, "url": e.url,
                "volume": e.fields.get("volume", ""), "pages": e.fields.get("pages", "")}
        venue = {4: "publicationTitle", 33: "proceedingsTitle", 3: "bookTitle"}.get(type_id)
        if venue and e.venue:
            data[venue] = e.venue
        if pinned_keys and n % 2 == 0:
            data["extra"] = f"Citation Key: {e.key}"
        for name, value in data.items():
            if value:
                con.execute("INSERT INTO itemData VALUES (?, ?, ?)", (item_id, ZOTERO_FIELDS[name], value_id(value)))
        for order, person in enumerate(_creators(e.fields.get("author", ""))):
            cid = creators.get(person)
            if cid is None:
                cid = con.execute("INSERT INTO creators (lastName, firstName, fieldMode) VALUES (?, ?, ?)",
                                  person).lastrowid or 0
                creators[person] = cid
            con.execute("INSERT INTO itemCreators VALUES (?, ?, 1, ?)", (item_id, cid, order))
    # a child note and attachment of the first item, and a trashed copy of the second: none is a citable entry
    for type_id in (1, 14):
        item_id += 1
        con.execute("INSERT INTO items (itemID, itemTypeID, libraryID, key) VALUES (?, ?, 1, ?)",
                    (item_id, type_id, zkey(item_id)))
    con.execute("INSERT INTO itemNotes VALUES (?, 1, '<p>read this</p>', 'read this')", (item_id - 1,))
    con.execute("INSERT INTO itemAttachments (itemID, parentItemID, linkMode, contentType, path) "
                "VALUES (?, 1, 0, 'application/pdf', 'storage:paper.pdf')", (item_id,))
    item_id += 1
    con.execute("INSERT INTO items (itemID, itemTypeID, libraryID, key) VALUES (?, 4, 1, ?)", (item_id, zkey(item_id)))
    con.execute("INSERT INTO itemData VALUES (?, 110, ?)", (item_id, value_id("A Trashed Paper Nobody Should See")))
    con.execute("INSERT INTO deletedItems (itemID) VALUES (?)", (item_id,))
    con.commit()
    con.close()
    return path


@pytest.fixture(scope="session")
def real_entries(train_library: Path) -> list[Entry]:
    """Real entries with a title and authors from the library .bib (the first 40)."""
    index = load_bibliography([train_library])
    return [e for e in index.entries if e.title and e.fields.get("author")][:40]


@pytest.fixture(scope="session")
def zotero_db(tmp_path_factory: pytest.TempPathFactory, real_entries: list[Entry]) -> Path:
    return build_zotero(tmp_path_factory.mktemp("zotero") / "zotero.sqlite", real_entries)
