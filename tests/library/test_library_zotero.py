"""Reading a real Zotero database (built from Zotero's published schema, filled with real entries): item types,
creators, titles, DOIs and Better BibTeX keys come through; a database locked by another process is still read; a
corrupted one gives a clear error naming the file."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from startref.citations.bibindex import Entry
from startref.citations.library import LibraryError, open_library
from startref.citations.library.zotero import read_zotero
from startref.citations.normalize import normalize_title


def test_items_come_back_with_types_creators_titles_dois_and_keys(zotero_db: Path, real_entries: list[Entry]) -> None:
    items = read_zotero(zotero_db)
    assert len(items) == len(real_entries)  # the note, the attachment and the trashed item are skipped
    assert all("Trashed" not in i.fields.get("title", "") for i in items)
    for item, entry in zip(items, real_entries):
        assert item.fields["title"] == entry.title
        assert [c[1] for c in item.creators if c[0] == "author"][: len(entry.authors)] or not entry.authors
    library = open_library([f"zotero:{zotero_db}"])
    assert len(library) <= len(real_entries)  # duplicates of a work (if any) are kept once
    by_title = {normalize_title(e.title): e for e in library.index.entries}
    pinned = {e.key for n, e in enumerate(real_entries) if n % 2 == 0}
    for n, entry in enumerate(real_entries):
        got = by_title.get(normalize_title(entry.title))
        assert got is not None, entry.title
        assert got.entry_type == ("article" if entry.entry_type == "article" else got.entry_type)
        assert got.authors[:1] == entry.authors[:1]
        if entry.doi:
            assert got.doi == entry.doi
        if entry.key in pinned and got.title == entry.title:
            assert got.key == entry.key or got.key.startswith(entry.key)  # Better BibTeX's pinned key
    generated = [e.key for e in library.index.entries if e.key not in pinned]
    assert generated and all(re.fullmatch(r"[a-z]+(\d{4})?[a-z0-9]*", k) for k in generated), generated[:5]
    assert all(o == f"zotero:{zotero_db}" for o in library.origin)


LOCKER = textwrap.dedent("""
    import sqlite3, sys, time
    con = sqlite3.connect(sys.argv[1], isolation_level=None)
    con.execute("PRAGMA locking_mode=EXCLUSIVE")
    con.execute("BEGIN EXCLUSIVE")
    con.execute("UPDATE items SET version = version + 1")
    print("locked", flush=True)
    sys.stdin.readline()
    con.execute("ROLLBACK")
""")


def test_a_database_locked_by_another_process_is_still_read(tmp_path: Path, zotero_db: Path) -> None:
    """Zotero keeps its database in exclusive locking mode while it runs; startref must read it anyway."""
    db = tmp_path / "zotero.sqlite"
    shutil.copy(zotero_db, db)
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        with pytest.raises(sqlite3.OperationalError, match="locked"):  # the lock is real
            sqlite3.connect(db, timeout=0.2).execute("SELECT count(*) FROM items").fetchone()
        items = read_zotero(db)
        assert len(items) == len(read_zotero(zotero_db))
    finally:
        assert locker.stdin is not None
        locker.stdin.write("\n")
        locker.stdin.flush()
        locker.wait(timeout=30)


def test_a_corrupted_database_is_a_clear_error(tmp_path: Path, zotero_db: Path) -> None:
    broken = tmp_path / "zotero.sqlite"
    data = bytearray(zotero_db.read_bytes())
    data[0:4096] = b"\x13garbage!" * 455 + b"x"  # the header page overwritten
    broken.write_bytes(bytes(data))
    with pytest.raises(LibraryError) as err:
        read_zotero(broken)
    assert str(broken) in str(err.value) and "Zotero database" in str(err.value)

    not_zotero = tmp_path / "other.sqlite"
    con = sqlite3.connect(not_zotero)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(LibraryError, match="not a Zotero database"):
        read_zotero(not_zotero)
    with pytest.raises(LibraryError, match="not found"):
        read_zotero(tmp_path / "missing.sqlite")
