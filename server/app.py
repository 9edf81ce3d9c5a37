"""The FastAPI application: HTTP in, ``Engine`` calls out, JSON back. No ranking logic lives here.

Why the shape:
- Models load in a background thread started by the lifespan, so the socket is open at once and ``/healthz``
  can say 503 while loading; ``/v1/*`` requests that arrive meanwhile wait for the models (bounded by
  ``ready_timeout_s``) instead of failing an editor's first hotkey.
- Every engine call runs in a worker thread behind an ``anyio.CapacityLimiter(settings.threads)``: the event
  loop stays free (health checks, new connections) and at most ``threads`` model calls compete for the cores.
- Middleware order, outermost first: request log -> Host/Origin guard -> CORS -> token + body limit -> routes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware

import startref
from startref.server.errors import ApiError, api_error_from_exception, error_response, install_error_handlers
from startref.server.schemas import (
    AnnotateRequest,
    AnnotateResponse,
    CheckRequest,
    CheckResponse,
    ErrorResponse,
    HealthResponse,
    SuggestRequest,
    SuggestResponse,
)
from startref.server.security import HostOriginGuard, TokenAndBodyLimit, check_bib_paths, check_tex_path
from startref.server.settings import ServerSettings

__all__ = ["create_app", "Runtime", "RequestLog"]

log = logging.getLogger("startref.server")
T = TypeVar("T")

#: Key in the ASGI scope where routes leave what the request log line reports (entries, cache hit).
LOG_SCOPE_KEY = "startref.log"

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 413, 422, 503)
}


@dataclass
class Runtime:
    """The process-wide state the routes share: settings, the engine once loaded, the model-call limiter."""

    settings: ServerSettings
    engine: Any = None
    limiter: anyio.CapacityLimiter | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    error: ApiError | None = None
    started: float = field(default_factory=time.perf_counter)
    ready_after_s: float | None = None

    async def engine_ready(self) -> Any:
        """The warmed engine; waits while models load, 503 if loading failed or takes too long."""
        if not self.ready.is_set():
            try:
                await asyncio.wait_for(self.ready.wait(), timeout=self.settings.ready_timeout_s)
            except asyncio.TimeoutError:
                raise ApiError("not_ready", "models are still loading; retry shortly",
                               headers={"Retry-After": "2"}) from None
        if self.error is not None:
            raise ApiError(self.error.code, self.error.message, self.error.status)
        return self.engine

    async def run_model(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` in a worker thread under the limiter; engine errors with a ``code`` become ApiErrors."""
        try:
            return await anyio.to_thread.run_sync(fn, limiter=self.limiter)
        except ApiError:
            raise
        except Exception as exc:
            mapped = api_error_from_exception(exc)
            if mapped is None:
                raise
            raise mapped from exc


class RequestLog:
    """Outermost ASGI middleware: one info line per request (method, path, status, ms, entries, bib cache)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}
        notes: dict[str, Any] = {}
        scope[LOG_SCOPE_KEY] = notes

        async def send_wrapper(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            ms = (time.perf_counter() - start) * 1000.0
            extra = "".join(f" {k}={v}" for k, v in notes.items())
            log.info("%s %s %d %.1fms%s", scope["method"], scope["path"], status["code"], ms, extra)


def _parses() -> int:
    from startref.citations import bibindex

    return int(getattr(bibindex, "parse_count", 0))


def _bib_notes(result: Any, parses_before: int, parses_after: int) -> dict[str, Any]:
    """Log fields about the bibliography: entries, load time, and whether the index came from the cache.

    The cache verdict compares the index's parse counter around the call: a request that parsed nothing was a hit.
    Under concurrency another request's parse can make a hit read as a miss (never the reverse); it is a log line.
    """
    timing = getattr(result, "timing_ms", {}) or {}
    notes: dict[str, Any] = {"entries": result.bibliography.entries}
    if "bibliography" in timing:
        notes["bib_ms"] = timing["bibliography"]
    hit = timing.get("bib_cache_hit")
    if hit is None:
        hit = parses_after == parses_before
    notes["cache"] = "hit" if hit else "miss"
    return notes


def _note(request: Request, **values: Any) -> None:
    notes = request.scope.get(LOG_SCOPE_KEY)
    if isinstance(notes, dict):
        notes.update(values)


def _make_lifespan(runtime: Runtime) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.limiter = anyio.CapacityLimiter(runtime.settings.threads)
        runtime.ready = asyncio.Event()
        runtime.started = time.perf_counter()

        def load() -> Any:
            engine = runtime.engine
            if engine is None:
                from startref.citations.engine import Engine

                engine = Engine(runtime.settings.engine_config())
            engine.warm()
            return engine

        async def warm() -> None:
            try:
                runtime.engine = await anyio.to_thread.run_sync(load)
                runtime.ready_after_s = time.perf_counter() - runtime.started
                log.info("models loaded in %.1fs; ready", runtime.ready_after_s)
            except Exception as exc:  # the server stays up and reports why on /healthz and every request
                mapped = api_error_from_exception(exc)
                runtime.error = ApiError(mapped.code if mapped else "model_error", str(exc), status=503)
                log.error("loading models failed: %s", exc)
            finally:
                runtime.ready.set()

        task = asyncio.create_task(warm())
        try:
            yield
        finally:
            if not task.done():
                task.cancel()

    return lifespan


def create_app(settings: ServerSettings, engine: Any | None = None) -> FastAPI:
    """Build the app; ``engine`` (an ``Engine``) is created from ``settings`` and warmed at startup when None."""
    runtime = Runtime(settings=settings, engine=engine)
    app = FastAPI(
        title="startref",
        version=startref.__version__,
        description="Local citation co-pilot: rank your own .bib for a LaTeX cursor and insert \\cite{key}.",
        lifespan=_make_lifespan(runtime),
    )
    app.state.runtime = runtime
    install_error_handlers(app)

    @app.get("/healthz", response_model=HealthResponse, responses={503: {"model": ErrorResponse}})
    async def healthz() -> Any:
        """200 once the models are loaded; 503 while loading or when loading failed (no token needed)."""
        if runtime.error is not None:
            return error_response(runtime.error.code, runtime.error.message, 503)
        if not runtime.ready.is_set():
            return error_response("not_ready", "models are loading", 503, {"Retry-After": "1"})
        return {"status": "ok"}

    @app.get("/v1/info", responses=_ERRORS)
    async def info() -> Any:
        """Version, models, device, cached bibliographies, and the server's own limits."""
        eng = await runtime.engine_ready()
        data = dict(await anyio.to_thread.run_sync(eng.info))  # cheap: not queued behind model calls
        data["server"] = {
            "threads": settings.threads,
            "workers": settings.workers,
            "token_required": bool(settings.token),
            "allow_origins": list(settings.allow_origins),
            "max_body_bytes": settings.max_body_bytes,
            "max_bib_bytes": settings.max_bib_bytes,
            "max_placeholders": settings.max_placeholders,
            "request_deadline_s": settings.request_deadline_s,
            "ready_after_s": runtime.ready_after_s,
        }
        return data

    @app.post("/v1/suggest", response_model=SuggestResponse, responses=_ERRORS)
    async def suggest(body: SuggestRequest, request: Request) -> Any:
        """Ranked bibliography entries for the cursor, and the edit that inserts the best one."""
        eng = await runtime.engine_ready()
        tex_path = check_tex_path(body.path, settings.file_rules)
        bibs = check_bib_paths(body.bib, settings.file_rules)
        append_to = (check_bib_paths([body.append_to], settings.file_rules) or [None])[0] if body.append_to else None

        def work() -> Any:
            # The clock starts when a worker thread takes the request: the deadline bounds how long one request
            # holds a worker, not how long it queued behind others.
            deadline = time.monotonic() + settings.request_deadline_s
            cursor = body.cursor
            if body.position is not None:
                from startref.latex.errors import LatexInputError
                from startref.latex.position import offset_from_lsp

                try:
                    cursor = offset_from_lsp(body.text, body.position.line, body.position.character)
                except LatexInputError as exc:  # any position that maps to no offset is out of range
                    raise ApiError("cursor_out_of_range", f"position: {exc}") from exc
            assert cursor is not None  # the schema guarantees cursor or position
            before = _parses()
            out = eng.suggest(body.text, cursor, path=tex_path, bib=bibs, bib_text=body.bib_text, k=body.k,
                              command=body.command, deadline=deadline, file_rules=settings.file_rules,
                              library=body.library, append_to=append_to)
            return out, before, _parses()

        result, before, after = await runtime.run_model(work)
        _note(request, **_bib_notes(result, before, after), candidates=len(result.candidates))
        return result.to_dict()

    @app.post("/v1/annotate", response_model=AnnotateResponse, responses=_ERRORS)
    async def annotate(body: AnnotateRequest, request: Request) -> Any:
        """Fill every citation placeholder in ``text``; returns the edits and the new text."""
        eng = await runtime.engine_ready()
        tex_path = check_tex_path(body.path, settings.file_rules)
        bibs = check_bib_paths(body.bib, settings.file_rules)
        append_to = (check_bib_paths([body.append_to], settings.file_rules) or [None])[0] if body.append_to else None

        def work() -> Any:
            deadline = time.monotonic() + min(settings.request_deadline_s, settings.annotate_budget_s)
            before = _parses()
            out = eng.annotate(body.text, path=tex_path, bib=bibs, bib_text=body.bib_text, keep_k=body.keep_k,
                               command=body.command, deadline=deadline, max_placeholders=settings.max_placeholders,
                               file_rules=settings.file_rules,
                               library=body.library, append_to=append_to)
            return out, before, _parses()

        result, before, after = await runtime.run_model(work)
        _note(request, **_bib_notes(result, before, after), edits=len(result.edits))
        return result.to_dict()

    @app.post("/v1/check", response_model=CheckResponse, responses=_ERRORS)
    async def check(body: CheckRequest, request: Request) -> Any:
        """Audit the document's citations (``startref check``): possible mis-citations, undefined keys, duplicate
        and incomplete entries; the same JSON as ``startref check --json``."""
        eng = await runtime.engine_ready()
        tex_path = check_tex_path(body.path, settings.file_rules)
        bibs = check_bib_paths(body.bib, settings.file_rules)

        def work() -> Any:
            from startref.citations.audit import check_document

            report = check_document(eng, path=tex_path, text=body.text, bib=bibs, bib_text=body.bib_text,
                                    sensitivity=body.sensitivity, file_rules=settings.file_rules)
            return report.filtered(body.min_severity)

        result = await runtime.run_model(work)
        _note(request, entries=result.bibliography["entries"], citations=result.citations,
              findings=len(result.findings))
        return result.to_dict()

    # add_middleware wraps: the last added is the outermost.
    app.add_middleware(TokenAndBodyLimit, token=settings.token, max_body_bytes=settings.max_body_bytes,
                       body_timeout_s=settings.body_timeout_s)
    if settings.allow_origins:
        # allow_private_network: Chrome asks before a public site (e.g. Overleaf) may call a loopback server
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.allow_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], allow_private_network=True, max_age=600)
    app.add_middleware(HostOriginGuard, allowed_hosts=settings.allowed_hosts,
                       allow_origins=settings.allow_origins)
    app.add_middleware(RequestLog)
    return app
