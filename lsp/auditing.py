"""``startref check`` inside the editor: the audit's findings as diagnostics, run off the request path.

Why a store of *anchored* findings: the audit ranks every citation of the document (seconds on a long paper), so
it runs on open and save, not on every keystroke -- but the cheap diagnostics (undefined keys) are republished
0.3 s after each change, and ``publishDiagnostics`` replaces a document's whole set. So the audit's findings are
kept and merged into every publish, each anchored to its key's n-th occurrence in the file rather than to an
offset: a line typed above a flagged citation moves the squiggle with it, and a key the user already replaced
loses its finding at once instead of pointing at the wrong text until the next save.

Why one worker thread with generations: an audit must never hold a completion back (completion runs in pygls'
thread pool, the audit here, one document at a time, embedding on one thread), and an audit of a version the user
has already changed is wasted work: each new request bumps the document's generation, and the running audit checks
it at every citation (the audit's progress callback) and stops.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path

from startref.citations.audit import THRESHOLDS, AuditReport, Finding, severity_rank
from startref.latex.cites import CiteCommand

from .convert import SOURCE, range_of
from .settings import CheckSettings

__all__ = ["AuditStore", "AuditRunner", "Superseded", "raise_if", "LSP_CODES", "FIXABLE_CODES", "diagnostic_severity"]

#: The audit's codes the editor shows. The others (undefined keys, .bib parse problems and duplicate keys) are
#: already published by the cheap providers of ``diagnostics`` on every change, with current positions.
LSP_CODES = frozenset({"possible_miscitation", "same_work_two_keys", "duplicate_entry", "incomplete_entry",
                       "unused_entry"})
#: Codes whose diagnostic offers "Replace with `key`" quick fixes.
FIXABLE_CODES = frozenset({"possible_miscitation", "same_work_two_keys", "undefined_key"})

_SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
             "info": types.DiagnosticSeverity.Information}


class Superseded(Exception):
    """Raised inside an audit whose document has changed since it was requested."""


def diagnostic_severity(finding: Finding) -> types.DiagnosticSeverity:
    """A possible mis-citation is a Warning when it would be flagged at the default sensitivity, a Hint when only
    the user's more sensitive setting flags it; the rest keep the audit's severity."""
    if finding.code == "possible_miscitation":
        suspicion = float(finding.details.get("suspicion", 0.0))
        return types.DiagnosticSeverity.Warning if suspicion >= THRESHOLDS["default"] else types.DiagnosticSeverity.Hint
    return _SEVERITY[finding.severity]


@dataclass(frozen=True)
class _Anchored:
    """A finding in a .tex file: its key's ``ordinal``-th occurrence among the file's cite keys (None when the key
    could not be found among them: then only the audited ``offset``/``end`` in an unchanged text)."""

    key: str
    ordinal: int | None
    offset: int
    end: int
    audited_text: str
    diagnostic: types.Diagnostic


def _key_spans(cites: Iterable[CiteCommand], key: str) -> list[tuple[int, int]]:
    return [span for cite in cites for k, span in zip(cite.keys, cite.key_spans) if k == key]


def _resolved(path: str) -> str:
    return str(Path(path).resolve())


def _related(finding: Finding) -> list[types.DiagnosticRelatedInformation] | None:
    out = []
    for rel in finding.related:
        uri = from_fs_path(_resolved(rel.location.file))
        if uri is None:
            continue
        line = max(rel.location.line - 1, 0)
        start = types.Position(line=line, character=max(rel.location.column - 1, 0))
        end = types.Position(line=max(rel.location.end_line - 1, 0), character=max(rel.location.end_column - 1, 0))
        out.append(types.DiagnosticRelatedInformation(location=types.Location(uri=uri, range=types.Range(start=start, end=end)),
                                                      message=rel.message))
    return out or None


def _diagnostic(finding: Finding, rng: types.Range) -> types.Diagnostic:
    return types.Diagnostic(
        range=rng, message=finding.message, severity=diagnostic_severity(finding), code=finding.code, source=SOURCE,
        related_information=_related(finding),
        data={"key": finding.key, "replacements": [r.text for r in finding.replacements]},
    )


@dataclass
class AuditStore:
    """The latest audit's diagnostics per file (absolute, resolved paths), merged into every publish."""

    _tex: dict[str, list[_Anchored]] = field(default_factory=dict)
    _bib: dict[str, list[types.Diagnostic]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def update(self, report: AuditReport, texts: dict[str, str], settings: CheckSettings,
               cites_of: Callable[[str], list[CiteCommand]]) -> set[str]:
        """Replace what is kept for every file of ``report`` (its .tex and .bib files) with its findings at or
        above ``settings.min_severity``; ``texts``: each .tex file's text as audited (read from disk when
        missing). Returns the files touched."""
        limit = severity_rank(settings.min_severity)
        tex: dict[str, list[_Anchored]] = {_resolved(f): [] for f in report.files}
        bib: dict[str, list[types.Diagnostic]] = {_resolved(f): [] for f in report.bibliography.get("files", [])}
        spans_cache: dict[str, list[CiteCommand]] = {}
        for finding in report.findings:
            if finding.code not in LSP_CODES or severity_rank(finding.severity) > limit:
                continue
            loc = finding.location
            file = _resolved(loc.file)
            if loc.offset is None:  # a .bib entry, known by its line
                line = max(loc.line - 1, 0)
                rng = types.Range(start=types.Position(line=line, character=0),
                                  end=types.Position(line=line + 1, character=0))
                bib.setdefault(file, []).append(_diagnostic(finding, rng))
                continue
            text = texts.get(file)
            if text is None:
                try:
                    text = texts[file] = Path(file).read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
            end = loc.end_offset if loc.end_offset is not None else loc.offset
            ordinal = None
            if finding.key is not None:
                cites = spans_cache.get(file)
                if cites is None:
                    cites = spans_cache[file] = cites_of(text)
                spans = _key_spans(cites, finding.key)
                ordinal = next((i for i, (a, _b) in enumerate(spans) if a == loc.offset), None)
            tex.setdefault(file, []).append(_Anchored(finding.key or "", ordinal, loc.offset, end, text,
                                                      _diagnostic(finding, range_of(text, loc.offset, end))))
        with self._lock:
            self._tex.update(tex)
            self._bib.update(bib)
        return set(tex) | set(bib)

    def tex_diagnostics(self, path: Path | str, text: str, cites: list[CiteCommand]) -> list[types.Diagnostic]:
        """The kept findings of a .tex file, moved to where their keys stand in ``text`` now (``cites``: its cite
        commands); a finding whose key is gone is dropped."""
        with self._lock:
            kept = list(self._tex.get(_resolved(str(path)), ()))
        out: list[types.Diagnostic] = []
        by_key: dict[str, list[tuple[int, int]]] = {}
        for a in kept:
            if a.ordinal is not None:
                spans = by_key.get(a.key)
                if spans is None:
                    spans = by_key[a.key] = _key_spans(cites, a.key)
                if a.ordinal >= len(spans):
                    continue
                start, end = spans[a.ordinal]
            elif text == a.audited_text:
                start, end = a.offset, a.end
            else:
                continue
            d = a.diagnostic
            out.append(types.Diagnostic(range=range_of(text, start, end), message=d.message, severity=d.severity,
                                        code=d.code, source=d.source, related_information=d.related_information,
                                        data=d.data))
        return out

    def bib_diagnostics(self, path: Path | str) -> list[types.Diagnostic]:
        with self._lock:
            return list(self._bib.get(_resolved(str(path)), ()))

    def files(self) -> set[str]:
        with self._lock:
            return {f for f, found in [*self._tex.items(), *self._bib.items()] if found}

    def clear(self) -> set[str]:
        """Forget everything (the check was turned off); returns the files that had findings."""
        with self._lock:
            had = {f for f, found in [*self._tex.items(), *self._bib.items()] if found}
            self._tex.clear()
            self._bib.clear()
        return had


class AuditRunner:
    """Runs ``job(uri, stale)`` for one document at a time on its own thread, after a delay; a newer request for
    the same document supersedes the queued or running one (``stale()`` turns True; the job raises ``Superseded``
    from its progress callback)."""

    def __init__(self, job: Callable[[str, Callable[[], bool]], None],
                 on_error: Callable[[str, BaseException], None]) -> None:
        self._job = job
        self._on_error = on_error
        self._generation: dict[str, int] = {}
        self._timers: dict[str, threading.Timer] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, int]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.completed = 0
        self.superseded = 0

    def schedule(self, uri: str, delay: float = 0.0) -> None:
        """Audit ``uri`` after ``delay`` seconds, superseding any earlier request for it."""
        with self._lock:
            gen = self._generation.get(uri, 0) + 1
            self._generation[uri] = gen
            old = self._timers.pop(uri, None)
            if old is not None:
                old.cancel()
            timer = threading.Timer(delay, self._queue.put, args=((uri, gen),))
            timer.daemon = True
            self._timers[uri] = timer
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="startref-audit", daemon=True)
                self._thread.start()
        timer.start()

    def cancel(self, uri: str) -> None:
        """Drop the queued or running audit of ``uri`` (the document was closed)."""
        with self._lock:
            self._generation[uri] = self._generation.get(uri, 0) + 1
            old = self._timers.pop(uri, None)
        if old is not None:
            old.cancel()

    def _current(self, uri: str, gen: int) -> bool:
        with self._lock:
            return self._generation.get(uri) == gen

    def _work(self) -> None:
        while True:
            uri, gen = self._queue.get()
            if not self._current(uri, gen):
                continue
            stale = lambda: not self._current(uri, gen)  # noqa: E731
            try:
                self._job(uri, stale)
                if stale():
                    self.superseded += 1
                else:
                    self.completed += 1
            except Superseded:
                self.superseded += 1
            except BaseException as err:  # one failed audit must not stop the worker
                self._on_error(uri, err)


def raise_if(stale: Callable[[], bool]) -> Callable[..., Any]:
    """A progress callback for ``check_document`` that stops the audit once its document has changed."""

    def progress(*_args: Any) -> None:
        if stale():
            raise Superseded

    return progress
