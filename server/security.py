r"""What keeps a local server that reads files from being used by a web page or another user.

Why each check:
- ``Host`` must be a loopback name: a page on ``evil.example`` that rebinds its DNS to 127.0.0.1 still sends
  ``Host: evil.example`` (DNS rebinding), so it is refused before any route runs.
- An ``Origin`` header that is not the server itself or an ``--allow-origin`` origin is refused: browsers send it
  on cross-site requests, and CORS alone only hides the *answer*, it does not stop the request from running.
- A bearer token (``--token`` or ``STARTREF_TOKEN``), when set, guards everything but ``/healthz``.
- Request bodies are bounded (Content-Length *and* the bytes actually streamed) so a client cannot exhaust memory.
- Every file a request makes the server open — ``path``, ``bib``, and what the document names through
  ``\bibliography``/``\addbibresource``/``\input``/``% !TEX root`` — passes the same ``FileRules``
  (``startref.filerules``): ``.tex``/``.bib`` names only (as written and after resolving symlinks), regular files
  only (never a FIFO or device), at most ``max_bib_bytes``. A forbidden name is refused before the disk is asked
  whether it exists, so the answers are no existence oracle. The checks here are that same rule applied early, to
  the request's own fields, so a bad field is a 400 before any model work is queued.
- A body that declares more than it sends is cut off after ``body_timeout_s`` (408), so a slow client cannot
  hold a connection and its buffer open.

The two middlewares are plain ASGI so they run before FastAPI parses anything.
"""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import anyio

from startref.filerules import BIB, TEX, FileRuleError, FileRules
from startref.server.errors import ApiError, error_body, status_for_code

__all__ = [
    "host_name",
    "host_allowed",
    "origin_allowed",
    "token_matches",
    "check_tex_path",
    "check_bib_paths",
    "HostOriginGuard",
    "TokenAndBodyLimit",
    "PUBLIC_PATHS",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Paths that need no token (a health probe must work before anyone has the token).
PUBLIC_PATHS: frozenset[str] = frozenset({"/healthz"})


def host_name(host_header: str) -> str:
    """The host part of a ``Host`` header, lower-cased, without port or IPv6 brackets ("[::1]:8765" -> "::1")."""
    value = host_header.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end > 0 else value
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value


def host_allowed(host_header: str | None, allowed: Iterable[str]) -> bool:
    """True when the Host header names an allowed (loopback) host, with any port."""
    if not host_header:
        return False
    return host_name(host_header) in set(allowed)


def origin_allowed(origin: str, host_header: str | None, allow_origins: Sequence[str]) -> bool:
    """True for the server's own origin (same Host, e.g. the /docs page) or an origin the user allowed."""
    origin = origin.strip().rstrip("/")
    if origin in allow_origins or "*" in allow_origins:
        return True
    if host_header:
        own = host_header.strip().lower()
        return origin.lower() in (f"http://{own}", f"https://{own}")
    return False


def token_matches(authorization: str | None, token: str) -> bool:
    """Constant-time check of ``Authorization: Bearer <token>``."""
    if not authorization:
        return False
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))


def _checked(raw: str, field: str, kind: str, rules: FileRules) -> Path:
    try:
        return rules.check_name(raw, kind)
    except FileRuleError as exc:
        code = "forbidden_path" if exc.reason == "forbidden" else "bibliography_unreadable"
        raise ApiError(code, f"{field}: {raw}: {exc.message}") from None


def check_tex_path(raw: str | None, rules: FileRules) -> Path | None:
    """The request's ``path`` resolved; it must be a name the rules allow (it need not exist: unsaved buffers)."""
    if raw is None:
        return None
    return _checked(raw, "path", TEX, rules)


def check_bib_paths(raws: Sequence[str] | None, rules: FileRules) -> list[Path] | None:
    """The request's ``bib`` list resolved; each must be a name the rules allow.

    Existence, regular-file and size checks happen when the file is read (``load_bibliography`` with the same
    rules): ``bibliography_not_found``, ``bibliography_unreadable``, ``bibliography_too_large`` naming the file.
    """
    if raws is None:
        return None
    return [_checked(raw, "bib", BIB, rules) for raw in raws]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


async def _send_error(send: Send, code: str, message: str, extra_headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps(error_body(code, message)).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               *extra_headers]
    await send({"type": "http.response.start", "status": status_for_code(code), "headers": headers})
    await send({"type": "http.response.body", "body": body})


class HostOriginGuard:
    """Outermost middleware: refuse non-loopback ``Host`` (403 forbidden_host) and foreign ``Origin`` (403)."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str], allow_origins: Sequence[str]) -> None:
        self.app = app
        self.allowed_hosts = frozenset(allowed_hosts)
        self.allow_origins = tuple(allow_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = _header(scope, b"host")
        if not host_allowed(host, self.allowed_hosts):
            await _send_error(send, "forbidden_host",
                              f"Host {host!r} is not a loopback name; this server only answers localhost")
            return
        origin = _header(scope, b"origin")
        if origin is not None and not origin_allowed(origin, host, self.allow_origins):
            await _send_error(send, "forbidden_origin",
                              f"Origin {origin!r} is not allowed; start the server with --allow-origin {origin}")
            return
        await self.app(scope, receive, send)


class TokenAndBodyLimit:
    """Inner middleware (inside CORS): bearer token, then the body size limit.

    The body is read here in full (at most ``max_body_bytes``) and replayed to the app, so an oversized body is
    refused with 413 whether or not the client sent an honest Content-Length.
    """

    def __init__(self, app: ASGIApp, *, token: str | None, max_body_bytes: int,
                 body_timeout_s: float | None = None) -> None:
        self.app = app
        self.token = token
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        if self.token and scope["path"] not in PUBLIC_PATHS:
            if not token_matches(_header(scope, b"authorization"), self.token):
                await _send_error(send, "unauthorized", "missing or wrong bearer token (Authorization: Bearer …)",
                                  [(b"www-authenticate", b"Bearer")])
                return
        length = _header(scope, b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await _send_error(send, "bad_request", f"invalid Content-Length {length!r}")
                return
            if declared > self.max_body_bytes:
                await _send_error(send, "payload_too_large", self._too_large(declared))
                return
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        timeout = self.body_timeout_s if self.body_timeout_s is not None else math.inf
        with anyio.move_on_after(timeout) as scope_timer:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body_bytes:
                    await _send_error(send, "payload_too_large", self._too_large(size, at_least=True))
                    return
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        if scope_timer.cancelled_caught:
            await _send_error(send, "request_timeout", f"the request body did not arrive within {timeout:g} s "
                              f"({size} bytes received)", [(b"connection", b"close")])
            return
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self, size: int, at_least: bool = False) -> str:
        more = "more than " if at_least else ""
        return f"request body of {more}{size} bytes is over the limit of {self.max_body_bytes} bytes"
