"""Reading a Zotero library over Zotero 7's local HTTP API (``http://localhost:23119/api/``), when it is enabled.

Why a second Zotero reader: the database file is not always reachable (Zotero's data directory on another
disk, a sandboxed install), while a running Zotero 7 can serve the same library over HTTP once the user turns on
*Settings → Advanced → Allow other applications on this computer to communicate with Zotero*. The local API
mirrors the Zotero web API (https://www.zotero.org/support/dev/web_api/v3/basics): ``GET
/api/users/0/items?format=json&limit=100&start=N`` pages through the library's items (trashed items are left out
by the API), each ``{"key", "version", "data": {"itemType", "title", "creators": [...], "date", "DOI", …}}``, and
the ``Last-Modified-Version`` header says when the library changed — the cache key, so the index is rebuilt only
after a change. Items become ``ZoteroItem`` values and go through the same BibTeX mapping as the database reader.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from startref.citations.library.errors import LibraryError
from startref.citations.library.zotero import _CITATION_KEY_LINE, _SKIPPED_TYPES, ZoteroItem

__all__ = ["DEFAULT_URL", "library_version", "read_zotero_api"]

#: The user library of the running Zotero (``0`` is the local user in the local API).
DEFAULT_URL = "http://localhost:23119/api/users/0"
_PAGE = 100
_TIMEOUT = httpx.Timeout(10.0, connect=2.0)
_HEADERS = {"Zotero-API-Version": "3", "User-Agent": "startref"}
#: How long a library version is trusted before asking Zotero again (every request asks otherwise).
VERSION_TTL_S = 30.0
_VERSIONS: dict[str, tuple[float, str]] = {}


def _get(client: httpx.Client, url: str, params: dict[str, Any]) -> httpx.Response:
    try:
        response = client.get(url, params=params, headers=_HEADERS)
    except httpx.HTTPError as err:
        raise LibraryError(url, f"Zotero's local API is not reachable ({err}); is Zotero 7 running with "
                                "'Allow other applications on this computer to communicate with Zotero' on?",
                           code="library_not_found") from None
    if response.status_code in (403, 404, 501):
        raise LibraryError(url, f"Zotero's local API answered {response.status_code} ({response.text.strip()[:120]}); "
                                "turn it on in Zotero 7: Settings → Advanced → Allow other applications on this "
                                "computer to communicate with Zotero", code="library_not_found")
    if response.status_code != 200:
        raise LibraryError(url, f"Zotero's local API answered {response.status_code}", code="library_unreadable")
    return response


def library_version(url: str = DEFAULT_URL) -> str:
    """The library's ``Last-Modified-Version`` (asked at most every ``VERSION_TTL_S`` seconds)."""
    now = time.monotonic()
    hit = _VERSIONS.get(url)
    if hit is not None and now - hit[0] < VERSION_TTL_S:
        return hit[1]
    with httpx.Client(timeout=_TIMEOUT) as client:
        response = _get(client, f"{url.rstrip('/')}/items", {"format": "json", "limit": 1})
    version = response.headers.get("Last-Modified-Version", "") or response.headers.get("Total-Results", "")
    _VERSIONS[url] = (now, version)
    return version


def _item(n: int, raw: Any) -> ZoteroItem | None:
    data = raw.get("data") if isinstance(raw, dict) else None
    if not isinstance(data, dict) or data.get("itemType") in _SKIPPED_TYPES or data.get("deleted"):
        return None
    fields = {k: str(v) for k, v in data.items() if isinstance(v, (str, int, float)) and k not in ("key", "version")}
    creators = []
    for c in data.get("creators") or ():
        if not isinstance(c, dict):
            continue
        if "name" in c:  # a one-field name (an organisation)
            creators.append((str(c.get("creatorType", "author")), str(c["name"]), "", 1))
        else:
            creators.append((str(c.get("creatorType", "author")), str(c.get("lastName", "")),
                             str(c.get("firstName", "")), 0))
    m = _CITATION_KEY_LINE.search(fields.get("extra", ""))
    cite_key = fields.get("citationKey", "") or (m.group(1) if m else "")
    return ZoteroItem(n, str(data.get("key") or raw.get("key", "")), str(data.get("itemType", "")), fields,
                      tuple(creators), cite_key)


def read_zotero_api(url: str = DEFAULT_URL) -> list[ZoteroItem]:
    """Every regular item of the library at ``url`` (paged, 100 at a time)."""
    items: list[ZoteroItem] = []
    start = 0
    with httpx.Client(timeout=_TIMEOUT) as client:
        while True:
            response = _get(client, f"{url.rstrip('/')}/items", {"format": "json", "limit": _PAGE, "start": start})
            try:
                page = response.json()
            except ValueError:
                raise LibraryError(url, "Zotero's local API sent something that is not JSON",
                                   code="library_unreadable") from None
            if not isinstance(page, list):
                raise LibraryError(url, "Zotero's local API sent no item list", code="library_unreadable")
            for raw in page:
                item = _item(len(items) + 1, raw)
                if item is not None:
                    items.append(item)
            start += len(page)
            total = response.headers.get("Total-Results")
            if not page or len(page) < _PAGE or (total is not None and total.isdigit() and start >= int(total)):
                return items
