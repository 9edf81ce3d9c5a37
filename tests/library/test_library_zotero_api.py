"""Zotero 7's local HTTP API as a library source, against a real local HTTP server standing in for Zotero.

Zotero itself cannot run here, so a ``http.server`` on a free port serves what the local API serves (the shape of
the Zotero web API v3, https://www.zotero.org/support/dev/web_api/v3/basics, which the local API mirrors):
``GET /api/users/0/items?format=json&limit=N&start=M`` -> a JSON list of ``{"key", "version", "library", "data":
{...}}`` with ``Total-Results`` and ``Last-Modified-Version`` headers, and 403 "Local API is not enabled" when the
user has not turned it on. The items are real entries (the library .bib of a training paper) written in Zotero's
item JSON (itemType, creators with creatorType/firstName/lastName or name, date, DOI, publicationTitle, extra).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from startref.citations.bibindex import Entry
from startref.citations.engine import Engine, EngineConfig
from startref.citations.library import LibraryError, open_library, parse_source
from startref.citations.library.zotero_api import read_zotero_api

TYPES = {"article": "journalArticle", "inproceedings": "conferencePaper", "book": "book", "phdthesis": "thesis",
         "misc": "preprint", "techreport": "report", "incollection": "bookSection"}


def _item_json(n: int, e: Entry) -> dict:
    creators = []
    for name in e.fields.get("author", "").split(" and "):
        name = name.strip().strip("{}")
        if not name or name == "others":
            continue
        if "," in name:
            last, first = (x.strip() for x in name.split(",", 1))
            creators.append({"creatorType": "author", "firstName": first, "lastName": last})
        else:
            creators.append({"creatorType": "author", "name": name})
    data = {"key": f"K{n:07d}", "version": 10 + n, "itemType": TYPES.get(e.entry_type, "document"),
            "title": e.title, "creators": creators, "date": e.year, "DOI": e.doi, "url": e.url,
            "publicationTitle": e.venue, "extra": f"Citation Key: {e.key}" if n % 2 == 0 else "",
            "tags": [], "collections": [], "relations": {}}
    return {"key": data["key"], "version": data["version"], "library": {"type": "user", "id": 0}, "data": data}


class _Zotero:
    """A local HTTP server answering as Zotero 7's local API does."""

    def __init__(self, items: list[dict], enabled: bool = True) -> None:
        self.items, self.enabled, self.version, self.requests = items, enabled, 4242, 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                outer.requests += 1
                url = urlparse(self.path)
                if not outer.enabled:
                    self._send(403, b"Local API is not enabled", "text/plain")
                    return
                if url.path != "/api/users/0/items":
                    self._send(404, b"Not found", "text/plain")
                    return
                q = parse_qs(url.query)
                start, limit = int(q.get("start", ["0"])[0]), int(q.get("limit", ["25"])[0])
                body = json.dumps(outer.items[start : start + limit]).encode()
                self._send(200, body, "application/json",
                           {"Total-Results": str(len(outer.items)), "Last-Modified-Version": str(outer.version)})

            def _send(self, code: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/users/0"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def zotero(real_entries: list[Entry]) -> Iterator[_Zotero]:
    items = [_item_json(n, e) for n, e in enumerate(real_entries)]
    items.insert(3, {"key": "NOTE0001", "version": 1, "data": {"key": "NOTE0001", "itemType": "note",
                                                               "note": "<p>read this</p>"}})
    server = _Zotero(items)
    yield server
    server.close()


def test_items_are_read_page_by_page_and_mapped(zotero: _Zotero, real_entries: list[Entry]) -> None:
    items = read_zotero_api(zotero.url)
    assert len(items) == len(real_entries)  # the note is not an entry
    assert zotero.requests == 1 + len(real_entries) // 100
    first = items[0]
    assert first.item_type == TYPES.get(real_entries[0].entry_type, "document")
    assert first.fields["title"] == real_entries[0].title and first.citation_key == real_entries[0].key
    assert first.creators and first.creators[0][0] == "author"


def test_the_local_api_is_a_library_source_with_keys_titles_and_dois(zotero: _Zotero, real_entries: list[Entry],
                                                                       tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("STARTREF_LIBRARY_CACHE_DIR", str(tmp_path / "cache"))
    source = parse_source(zotero.url)
    assert source.kind == "zotero-api" and source.label == f"zotero-api:{zotero.url}"
    library = open_library([zotero.url])
    assert len(library) == len(real_entries)
    pinned = real_entries[0]
    got = library.index.get(pinned.key)
    assert got is not None and got.title == pinned.title and got.doi == pinned.doi
    assert all(library.origin[i] == source.label for i in range(len(library)))


def test_ranked_with_the_paper_bib(zotero: _Zotero, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("STARTREF_LIBRARY_CACHE_DIR", str(tmp_path / "cache"))
    repo = Path(__file__).resolve().parents[2]
    (tmp_path / "refs.bib").write_bytes((repo / "examples" / "resnet" / "refs.bib").read_bytes())
    text = ("\\documentclass{article}\\begin{document}\nGamma-ray bursts observed by the INTEGRAL SPI "
            "spectrometer were fitted with the Band function \\cite{}.\n\\bibliography{refs}\\end{document}\n")
    (tmp_path / "paper.tex").write_text(text, encoding="utf-8")
    engine = Engine(EngineConfig(use_generator=False, library=(zotero.url,)))
    s = engine.suggest(text, text.index("\\cite{}") + 6, path=tmp_path / "paper.tex", k=5)
    assert s.candidates[0].in_bib is False and s.candidates[0].source == f"zotero-api:{zotero.url}"
    assert s.bib_edit is not None and s.bib_edit["text"].lstrip().startswith("@")


def test_a_disabled_or_absent_local_api_is_a_clear_error(real_entries: list[Entry]) -> None:
    off = _Zotero([], enabled=False)
    try:
        with pytest.raises(LibraryError, match="turn it on in Zotero 7"):
            read_zotero_api(off.url)
    finally:
        off.close()
    with pytest.raises(LibraryError, match="not reachable"):
        read_zotero_api(off.url)  # the server is gone: nothing listens on that port any more
