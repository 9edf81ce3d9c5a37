"""The protocol layer: a pygls ``LanguageServer`` that translates LSP requests into feature calls.

Why the shape:
- ``initialize`` answers at once; the models load in a thread started there, shown to the client as work-done
  progress ("loading models…", then done). Requests that need the models wait for them (bounded), so an
  editor's first completion is slow rather than empty.
- Every request that touches the engine or the disk runs in pygls' thread pool (``@thread``): the event loop keeps
  reading messages, so a big bibliography never blocks typing. Notifications we send from those threads are
  handed to the loop (``_send``), the only writer.
- Every handler is guarded: bad input (an unparsable .bib, a missing root file, a 5 MB document, a position past
  the end of a line) gives an empty answer and a ``window/logMessage`` line, never a dead server.
- Positions are UTF-16 whatever the client offers (``_Protocol``), converted by ``convert`` only.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.uris import from_fs_path, to_fs_path

from startref import __version__
from startref.citations.bibindex import parse_bib_text
from startref.citations.engine import Engine, EngineConfig
from startref.citations.errors import StartrefError
from startref.latex.errors import LatexInputError

from . import convert, diagnostics, documents
from .auditing import AuditRunner, AuditStore, raise_if
from .settings import CheckSettings, read_check_settings

__all__ = ["StartrefLanguageServer", "create_server", "guarded", "SUGGEST_COMMAND"]

log = logging.getLogger("startref.lsp")
F = TypeVar("F", bound=Callable[..., Any])

#: ``workspace/executeCommand`` name returning the ranked list (the HTTP ``/v1/suggest`` body).
SUGGEST_COMMAND = "startref.suggest"


class _LockedWriter:
    """One message at a time on the transport: pygls answers threaded requests from their worker threads while
    notifications leave from the event loop, and a 200-item completion list is bigger than a pipe's buffer."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer
        self._lock = threading.Lock()

    def write(self, data: bytes) -> Any:
        with self._lock:
            return self._writer.write(data)

    def close(self) -> Any:
        return self._writer.close()


class _Protocol(LanguageServerProtocol):
    """pygls' protocol, pinned to UTF-16 positions (the one encoding every client must support), writing one
    message at a time."""

    def set_writer(self, writer: Any, include_headers: bool = True) -> None:
        super().set_writer(_LockedWriter(writer), include_headers)

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Any:
        if params.capabilities.general is not None:
            params.capabilities.general.position_encodings = [types.PositionEncodingKind.Utf16]
        return (yield from super().lsp_initialize(params))


class StartrefLanguageServer(LanguageServer):
    """The server object every handler receives: the engine, the loading state, kept rankings, debounce timers."""

    def __init__(self, config: EngineConfig | None = None, *, debounce_s: float = 0.3, ready_timeout_s: float = 180.0,
                 append_to: str | None = None) -> None:
        super().__init__("startref", __version__, protocol_cls=_Protocol, max_workers=4)
        self.engine = Engine(config)
        #: The .bib that receives library entries chosen in completion (None: the document's first .bib).
        self.append_to = append_to
        self.debounce_s = debounce_s
        self.ready_timeout_s = ready_timeout_s
        self.ready = threading.Event()
        self.load_error: str | None = None
        self.loaded_after_s: float | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ranking: tuple[str, Any] | None = None
        self._timers: dict[str, threading.Timer] = {}
        self._timers_lock = threading.Lock()
        self._loader: threading.Thread | None = None
        self.check_settings = CheckSettings()
        self.audit_store = AuditStore()
        self.audits = AuditRunner(self._audit_document, self._audit_failed)
        #: What loading did last ("indexing your library: 1200/29928 entries"), for the work-done progress.
        self.loading_message: str | None = None

    # -- sending from any thread ----------------------------------------------------------------------------------
    def _send(self, fn: Callable[..., None], *args: Any) -> None:
        """Call a pygls notification method on the event loop (the transport's only writer)."""
        loop = self.loop
        if loop is None or loop.is_closed():
            fn(*args)
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            fn(*args)
        else:
            loop.call_soon_threadsafe(fn, *args)

    def log_line(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
        """One ``window/logMessage`` line (and the process log), from any thread."""
        log.log(logging.WARNING if kind <= types.MessageType.Warning else logging.INFO, message)
        self._send(self.window_log_message, types.LogMessageParams(type=kind, message=f"startref: {message}"))

    # -- models ----------------------------------------------------------------------------------------------------
    def start_loading(self) -> None:
        """Load the models in a background thread (once)."""
        if self._loader is not None:
            return
        started = time.perf_counter()

        def load() -> None:
            try:
                _ = self.engine.encoder, self.engine.ranker
                self._index_library()
                self.engine.warm()
            except Exception as err:  # a missing model must not kill the server: say why, answer without ranking
                self.load_error = f"{type(err).__name__}: {err}"
            finally:
                self.loaded_after_s = time.perf_counter() - started
                self.ready.set()

        self._loader = threading.Thread(target=load, name="startref-load-models", daemon=True)
        self._loader.start()

    def _index_library(self) -> None:
        """Index the configured library now when it is not cached yet, saying how far it is (``loading_message``):
        the first index of a big library takes minutes, and the editor shows it as the loading progress."""
        sources = self.engine.config.library
        if not sources:
            return
        from startref.citations.library import LibraryError, open_library

        try:
            library = open_library(sources)
            if not library.needs_indexing(self.engine.encoder):
                return

            def progress(done: int, total: int) -> None:
                self.loading_message = f"indexing your library: {done}/{total} entries"

            progress(0, len(library))
            library.features(self.engine.encoder, progress=progress)
        except LibraryError:
            self.loading_message = None  # the engine answers from the paper's .bib and says why

    def wait_ready(self) -> bool:
        """Wait for the models; False (and a log line) when loading failed or took too long."""
        if not self.ready.wait(self.ready_timeout_s):
            self.log_line("models are still loading; try again shortly", types.MessageType.Warning)
            return False
        if self.load_error is not None:
            self.log_line(f"models failed to load: {self.load_error}", types.MessageType.Error)
            return False
        return True

    # -- documents -------------------------------------------------------------------------------------------------
    def snapshot(self, uri: str) -> tuple[str, Path | None]:
        """The document's current text and its file path (None for an unsaved buffer)."""
        doc = self.workspace.get_text_document(uri)
        path = to_fs_path(uri) if uri.startswith("file:") else None
        return doc.source, Path(path) if path else None

    def offset_of(self, text: str, position: types.Position, uri: str) -> int | None:
        try:
            return convert.offset_at(text, position)
        except LatexInputError as err:
            self.log_line(f"{uri}: position {position.line}:{position.character} ignored: {err}")
            return None

    def keep_ranking(self, uri: str, ranking: Any) -> None:
        """Keep the last completion's ranking for ``completionItem/resolve`` (only the last: for a big library a
        ranking holds every entry's feature row)."""
        self._ranking = (uri, ranking)

    def kept_ranking(self, uri: str) -> Any:
        kept = self._ranking
        return kept[1] if kept is not None and kept[0] == uri else None

    # -- diagnostics -----------------------------------------------------------------------------------------------
    def schedule_diagnostics(self, uri: str, delay: float | None = None) -> None:
        """Publish diagnostics for ``uri`` after ``delay`` seconds of quiet (debounce while typing)."""
        delay = self.debounce_s if delay is None else delay
        timer = threading.Timer(delay, self._publish_guarded, args=(uri,))
        timer.daemon = True
        with self._timers_lock:
            old = self._timers.pop(uri, None)
            if old is not None:
                old.cancel()
            self._timers[uri] = timer
        timer.start()

    def cancel_diagnostics(self, uri: str) -> None:
        with self._timers_lock:
            old = self._timers.pop(uri, None)
        if old is not None:
            old.cancel()

    def _publish_guarded(self, uri: str) -> None:
        try:
            self.publish_diagnostics(uri)
        except Exception as err:
            self.log_line(f"{uri}: diagnostics failed: {type(err).__name__}: {err}", types.MessageType.Error)

    def publish_diagnostics(self, uri: str) -> None:
        """Compute and publish the diagnostics of one open document (and of the .bib files it uses)."""
        if uri not in self.workspace.text_documents:
            return
        doc = self.workspace.get_text_document(uri)
        text, version = doc.source, doc.version
        path = Path(to_fs_path(uri)) if uri.startswith("file:") else None
        if documents.is_bib_path(path) or doc.language_id == "bibtex":
            self._publish_bib_buffer(uri, text, version, path)
            return
        lookup = documents.bibliography_of(self.engine, path, text)
        if lookup.error:
            self.log_line(lookup.error)
        _syntax, cites = documents.cites_of(text)
        found = diagnostics.tex_findings(diagnostics.TexInput(text, path, cites, lookup))
        audited = self.audit_store.tex_diagnostics(path, text, cites) if path is not None else []
        self._send(self.text_document_publish_diagnostics, types.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=[convert.diagnostic_of(text, f) for f in found] + audited))
        if lookup.index is not None:
            for file, bib_found in diagnostics.bib_findings(lookup.problems, list(lookup.index.files)).items():
                bib_uri = from_fs_path(str(Path(file).resolve()))
                if bib_uri is None or bib_uri in self.workspace.text_documents:
                    continue  # an open .bib is checked from its own buffer
                self._send(self.text_document_publish_diagnostics, types.PublishDiagnosticsParams(
                    uri=bib_uri, diagnostics=[convert.bib_diagnostic_of(f) for f in bib_found]
                    + self.audit_store.bib_diagnostics(file)))

    def _publish_bib_buffer(self, uri: str, text: str, version: int | None, path: Path | None) -> None:
        name = str(path) if path else uri
        try:
            problems = parse_bib_text(text, name).problems
        except StartrefError as err:
            self.log_line(str(err), types.MessageType.Warning)
            problems = ()
        found = diagnostics.bib_findings(problems, [name]).get(name, [])
        audited = self.audit_store.bib_diagnostics(path) if path is not None else []
        self._send(self.text_document_publish_diagnostics, types.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=[convert.bib_diagnostic_of(f) for f in found] + audited))

    def refresh_all(self) -> None:
        """A .bib changed on disk: re-check every open document (and audit it again)."""
        for uri in list(self.workspace.text_documents):
            self.schedule_diagnostics(uri, delay=0.05)
            self.schedule_audit(uri)

    # -- the citation audit (startref check) ----------------------------------------------------------------------
    def schedule_audit(self, uri: str, delay: float = 0.0) -> None:
        """Audit an open .tex document (when the check is on), superseding an earlier audit of it."""
        if self.check_settings.enabled and documents.is_tex_path(self._path_of(uri)):
            self.audits.schedule(uri, delay)

    def apply_settings(self, value: Any) -> None:
        """Read ``startref.check.*`` from initializationOptions or didChangeConfiguration; re-audit on a change."""
        before = self.check_settings
        self.check_settings, problems = read_check_settings(value, before)
        for problem in problems:
            self.log_line(problem, types.MessageType.Warning)
        if self.check_settings == before:
            return
        if not self.check_settings.enabled:
            self.audit_store.clear()
            for uri in list(self.workspace.text_documents):
                self.audits.cancel(uri)
                self.schedule_diagnostics(uri, delay=0.0)
            return
        for uri in list(self.workspace.text_documents):
            self.schedule_audit(uri)

    @staticmethod
    def _path_of(uri: str) -> Path | None:
        path = to_fs_path(uri) if uri.startswith("file:") else None
        return Path(path) if path else None

    def _audit_document(self, uri: str, stale: Callable[[], bool]) -> None:
        """One audit (on the runner's thread): check the document's current text, keep the findings, republish."""
        from startref.citations.audit import check_document

        settings = self.check_settings
        if not settings.enabled or uri not in self.workspace.text_documents or not self.wait_ready() or stale():
            return
        text, path = self.snapshot(uri)
        if path is None:
            return
        started = time.perf_counter()
        report = check_document(self.engine, path=path, text=text, sensitivity=settings.sensitivity, workers=1,
                                progress=raise_if(stale))
        if stale():
            return
        touched = self.audit_store.update(report, {str(path.resolve()): text}, settings,
                                          lambda t: documents.cites_of(t)[1])
        log.info("audit of %s: %d findings in %.1f s", uri, len(report.findings), time.perf_counter() - started)
        for other in list(self.workspace.text_documents):
            other_path = self._path_of(other)
            if other == uri or (other_path is not None and str(other_path.resolve()) in touched):
                self._publish_guarded(other)

    def _audit_failed(self, uri: str, err: BaseException) -> None:
        kind = types.MessageType.Warning if isinstance(err, (StartrefError, LatexInputError)) else types.MessageType.Error
        self.log_line(f"{uri}: check failed: {type(err).__name__}: {err}", kind)


def guarded(empty: Any = None) -> Callable[[F], F]:
    """Turn any exception of a handler into ``empty`` plus a log line: bad input never kills the server."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def run(ls: StartrefLanguageServer, params: Any) -> Any:
            try:
                return fn(ls, params)
            except (StartrefError, LatexInputError) as err:
                ls.log_line(f"{fn.__name__}: {err}", types.MessageType.Warning)
            except Exception as err:
                log.exception("%s failed", fn.__name__)
                ls.log_line(f"{fn.__name__} failed: {type(err).__name__}: {err}", types.MessageType.Error)
            return empty

        return run  # type: ignore[return-value]

    return wrap


def create_server(config: EngineConfig | None = None, **options: Any) -> StartrefLanguageServer:
    """A ready-to-start server (``start_io()`` or ``start_tcp(host, port)``) with every feature registered."""
    server = StartrefLanguageServer(config, **options)
    from .handlers import register

    register(server)
    return server
