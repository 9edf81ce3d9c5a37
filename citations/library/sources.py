"""Library sources: what the user names (``refs.bib``, ``zotero.sqlite``, ``zotero``) read into entries.

Why one function per kind behind one ``read_source``: the store caches whatever a source yields, so a new kind
(Zotero 7's local HTTP API, a CSL-JSON export) is one reader here and nothing else changes.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from startref.citations.bibindex import BibIndex, Entry, load_bibliography, parse_bib_text
from startref.citations.errors import BibliographyError
from startref.citations.library.bibtex import render_entry
from startref.citations.library.errors import LibraryError
from startref.citations.library.keys import generate_key, unique_key
from startref.citations.library.zotero import read_zotero, to_bibtex_fields
from startref.citations.library.zotero_api import DEFAULT_URL, library_version, read_zotero_api

__all__ = ["Source", "parse_source", "read_source", "default_zotero_path"]


@dataclass(frozen=True)
class Source:
    """One library source: ``kind`` is ``bib``, ``zotero`` (``path`` the file) or ``zotero-api`` (``url``)."""

    kind: str
    path: Path
    url: str = ""

    @property
    def label(self) -> str:
        """How candidates name where they come from (``source`` in the JSON)."""
        return f"{self.kind}:{self.url or self.path}"

    def content_key(self) -> str:
        """Changes whenever the source's content may have changed: a .bib's bytes (hashed), a database's size and
        modification time (hashing a large Zotero database would cost more than re-reading it), the local API's
        library version."""
        if self.kind == "zotero-api":
            return hashlib.sha256(f"{self.url}|{library_version(self.url)}".encode()).hexdigest()[:32]
        try:
            st = self.path.stat()
        except OSError as err:
            raise LibraryError(str(self.path), f"library source not readable: {err.strerror or err}",
                               code="library_not_found") from None
        memo_key = (self.kind, str(self.path), st.st_size, st.st_mtime_ns, st.st_ino)
        hit = _CONTENT_KEYS.get(memo_key)
        if hit is not None:  # unchanged since last hashed: a request does not re-read an 18 MB library
            return hit
        h = hashlib.sha256(f"{self.kind}|{self.path.resolve()}|{st.st_size}".encode())
        if self.kind == "bib":
            with open(self.path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    h.update(block)
        else:
            h.update(str(st.st_mtime_ns).encode())
        _CONTENT_KEYS[memo_key] = h.hexdigest()[:32]
        return _CONTENT_KEYS[memo_key]


_CONTENT_KEYS: dict[tuple[object, ...], str] = {}


def default_zotero_path() -> Path:
    """Where Zotero keeps its database by default: ``$ZOTERO_DATA_DIR`` or ``~/Zotero``, then ``zotero.sqlite``."""
    base = os.environ.get("ZOTERO_DATA_DIR")
    return (Path(base).expanduser() if base else Path.home() / "Zotero") / "zotero.sqlite"


def parse_source(spec: str) -> Source:
    """``refs.bib`` -> bib; ``…/zotero.sqlite`` (any ``.sqlite``) -> zotero; ``zotero`` -> the default database;
    ``zotero-api`` or an ``http://…/api/users/0`` URL -> Zotero 7's local HTTP API."""
    text = spec.strip()
    if text.lower() == "zotero":
        return Source("zotero", default_zotero_path())
    if text.lower() == "zotero-api":
        return Source("zotero-api", Path(), DEFAULT_URL)
    if text.startswith("zotero-api:") or text.startswith(("http://", "https://")):
        url = text.removeprefix("zotero-api:")
        return Source("zotero-api", Path(), url.rstrip("/"))
    for prefix in ("bib:", "zotero:"):
        if text.startswith(prefix):
            return Source(prefix[:-1], Path(text[len(prefix):]).expanduser())
    path = Path(text).expanduser()
    if path.suffix.lower() in (".sqlite", ".db"):
        return Source("zotero", path)
    if path.suffix.lower() == ".bib":
        return Source("bib", path)
    raise LibraryError(spec, "unknown library source: give a .bib file, a zotero.sqlite, the word 'zotero', or "
                             "'zotero-api' (Zotero 7's local HTTP API)",
                       code="library_not_found")


def _zotero_index(source: Source) -> BibIndex:
    """The Zotero items as a bibliography: each rendered to BibTeX and parsed by the same pipeline as a .bib,
    so titles, names and identifiers are decoded exactly as for the paper's own entries."""
    items = read_zotero_api(source.url) if source.kind == "zotero-api" else read_zotero(source.path)
    taken: set[str] = set()
    blocks: list[str] = []
    for item in items:
        etype, fields = to_bibtex_fields(item)
        key = item.citation_key
        if not key or key.casefold() in taken:
            lasts = tuple(last for kind, last, _first, _mode in item.creators if kind in ("author", "editor") and last)
            stub = Entry(key="", entry_type=etype, fields={}, title=item.fields.get("title", ""), authors=lasts,
                         year=fields.get("year", ""))
            base = key if key else generate_key(stub)
            key = unique_key(base, lambda k: k in taken)
        taken.add(key.casefold())
        blocks.append(render_entry(etype, key, fields, drop=()))
    return parse_bib_text("\n".join(blocks), source.label)


def read_source(source: Source) -> BibIndex:
    """The entries of one source (``LibraryError`` naming the file when it cannot be used at all)."""
    if source.kind == "zotero-api":
        return _zotero_index(source)
    if not source.path.exists():
        raise LibraryError(str(source.path), "library source not found", code="library_not_found")
    if source.kind == "zotero":
        return _zotero_index(source)
    try:
        return load_bibliography([source.path])  # a big library .bib is parsed on every core (bib_parallel)
    except LibraryError:
        raise
    except BibliographyError as err:
        raise LibraryError(err.path, err.message, code="library_unreadable") from None
