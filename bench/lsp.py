"""Latency and memory of ``startref lsp`` as an editor sees them: completion round trips over stdio.

Why: the issue sets targets for the language server on a laptop -- completion on a warm server p50 <= 120 ms and
p95 <= 300 ms with the paper's own bibliography, p95 <= 600 ms with a ~28k-entry library, the first answer after
``initialize`` <= 5 s, RSS <= 1 GB with the default models. This script measures exactly that with a real LSP
client (pygls) driving ``python -m startref lsp`` over stdio, the way Neovim or Emacs start it.

Requests: ``bench/load.py``'s masked citations of the dev papers (``shared/bench``), with an empty ``\\cite{}`` where
the citation stood and the cursor inside it (``\\cite{|}``): the moment a user asks for completion. Each request opens the document (its own
bibliographies named by absolute path, so discovery cannot miss them), asks for completion, closes it; only the
completion round trip is timed. One unmeasured request per bibliography first (parsing + entry embeddings).

    python bench/lsp.py                    # own bibliographies, 100 requests
    python bench/lsp.py --library          # bench + train bibliographies merged into one library
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import _pct  # noqa: E402
from load_requests import CITE_RE, SHARED, masked_requests, merge_library  # noqa: E402
from ranking import table  # noqa: E402

__all__ = ["CompletionCase", "completion_cases", "main"]

#: ``% !TEX root = ...`` would send discovery to a root file that the temporary copy does not have.
_MAGIC_ROOT = re.compile(r"^[ \t]*%[ \t]*![ \t]*tex[ \t]+root.*$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class CompletionCase:
    """One masked cite: the document text (with its bibliography line), the cursor, and the removed keys."""

    paper: str
    text: str
    cursor: int
    keys: tuple[str, ...]
    bib_line: str


def _bib_line(bibs: Sequence[Path]) -> str:
    return "\n\\bibliography{" + ",".join(str(b.with_suffix("")) for b in bibs) + "}\n"


def _rename_keys(m: re.Match[str], suffix: str) -> str:
    """A cite command with every key renamed as ``merge_library`` renamed the library's entries."""
    keys = ",".join(k.strip() + suffix for k in m.group(1).split(",") if k.strip())
    return m.group(0)[: m.start(1) - m.start(0)] + keys + m.group(0)[m.end(1) - m.start(0):]


def completion_cases(papers: Path, *, library: Path | None = None, paper_index: dict[str, int] | None = None,
                     per_paper: int = 40, seed: int = 0) -> list[CompletionCase]:
    """``bench/load.py``'s masked citations, with an empty ``\\cite{}`` where the citation stood and the cursor
    inside it (the same cases the HTTP benchmark sends), interleaved across papers."""
    cases: list[CompletionCase] = []
    for req in masked_requests(papers, k=5, library=library, paper_index=paper_index, per_paper=per_paper, seed=seed):
        text, at = req.body["text"], req.body["cursor"]
        if library is not None and paper_index is not None:  # the library renamed every key: so does the document
            suffix = f"__p{paper_index[req.paper]}"
            before = CITE_RE.sub(lambda m: _rename_keys(m, suffix), text[:at])
            text, at = before + CITE_RE.sub(lambda m: _rename_keys(m, suffix), text[at:]), len(before)
        bib_line = _bib_line([Path(b) for b in req.body["bib"]])
        masked = _MAGIC_ROOT.sub("%", text[:at]) + "~\\cite{}" + text[at:] + bib_line
        cursor = len(_MAGIC_ROOT.sub("%", text[:at])) + len("~\\cite{")
        cases.append(CompletionCase(req.paper, masked, cursor, req.keys, bib_line))
    return cases


def _position(text: str, offset: int) -> types.Position:
    line_start = text.rfind("\n", 0, offset) + 1
    return types.Position(line=text.count("\n", 0, offset),
                          character=len(text[line_start:offset].encode("utf-16-le")) // 2)


@dataclass
class Run:
    latencies_ms: list[float] = field(default_factory=list)
    hits_at_5: int = 0
    empty: int = 0


class Bench:
    """A pygls client connected to ``startref lsp`` over stdio."""

    def __init__(self, folder: Path, server_args: Sequence[str]) -> None:
        self.folder = folder
        self.server_args = list(server_args)
        self.client = LanguageClient("startref-bench", "1")
        self.n = 0
        self.cpu_ms: list[float] = []  # server CPU time per request (open + diagnostics + completion)

        @self.client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def _create(_params: types.WorkDoneProgressCreateParams) -> None:
            return None

        for method in (types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, types.WINDOW_LOG_MESSAGE, types.PROGRESS):
            self.client.feature(method)(lambda _params: None)  # an editor would show these; the bench ignores them

    async def start(self) -> tuple[float, float]:
        """Start and initialize; returns (initialize round trip, first completion answered after initialize) in s."""
        t0 = time.perf_counter()
        await self.client.start_io(sys.executable, "-m", "startref", "lsp", *self.server_args)
        await self.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(window=types.WindowClientCapabilities(work_done_progress=True)),
            root_uri=from_fs_path(str(self.folder)), process_id=os.getpid(),
            # each request opens a fresh document: an audit per request is not what an editor does (bench/lsp_check.py
            # measures completion beside the audit)
            initialization_options={"check": {"enabled": False}}))
        t_init = time.perf_counter() - t0
        self.client.initialized(types.InitializedParams())
        return t_init, t0

    @property
    def pid(self) -> int:
        return self.client._server.pid  # type: ignore[union-attr]

    async def complete(self, case: CompletionCase) -> tuple[float, list[str]]:
        """Open the case's document, time one completion request, close it; (ms, labels in rank order)."""
        self.n += 1
        cpu0 = self._cpu_s()
        path = self.folder / f"case{self.n}.tex"
        uri = from_fs_path(str(path))
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="latex", version=1, text=case.text)))
        t0 = time.perf_counter()
        result = await self.client.text_document_completion_async(types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=_position(case.text, case.cursor)))
        ms = (time.perf_counter() - t0) * 1000
        self.cpu_ms.append((self._cpu_s() - cpu0) * 1000)
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        items = sorted(result.items if isinstance(result, types.CompletionList) else list(result or []),
                       key=lambda i: i.sort_text or i.label)
        return ms, [i.label for i in items]

    def _cpu_s(self) -> float:
        """The server's CPU seconds so far: unlike wall time, barely inflated by other work on the machine."""
        times = psutil.Process(self.pid).cpu_times()
        return times.user + times.system

    def rss_mb(self) -> float:
        proc = psutil.Process(self.pid)
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.client.shutdown_async(None), 30)
            self.client.exit(None)
        finally:
            await self.client.stop()


async def _measure(cases: list[CompletionCase], requests: int, folder: Path, server_args: Sequence[str]) -> dict:
    bench = Bench(folder, server_args)
    t_init, t0 = await bench.start()
    try:
        first_ms, _labels = await bench.complete(cases[0])
        first_after_init_s = time.perf_counter() - t0
        seen = {cases[0].bib_line}
        cold: list[float] = []
        for case in cases:  # one unmeasured request per bibliography: parsing and entry embeddings
            if case.bib_line not in seen:
                seen.add(case.bib_line)
                cold.append((await bench.complete(case))[0])
        run = Run()
        bench.cpu_ms.clear()
        for i in range(requests):
            case = cases[(i + 1) % len(cases)]
            ms, labels = await bench.complete(case)
            run.latencies_ms.append(ms)
            run.hits_at_5 += bool(set(case.keys) & set(labels[:5]))
            run.empty += not labels
        return {"initialize_s": t_init, "first_after_initialize_s": first_after_init_s, "first_ms": first_ms,
                "cold_ms": cold, "run": run, "rss_mb": bench.rss_mb(), "cpu_ms": list(bench.cpu_ms)}
    finally:
        await bench.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="measured completion requests (default 100)")
    parser.add_argument("--papers", type=Path, default=SHARED / "bench" / "papers")
    parser.add_argument("--train", type=Path, default=SHARED / "train" / "papers")
    parser.add_argument("--library", action="store_true", help="also run against bench + train bibliographies merged")
    parser.add_argument("--library-only", action="store_true", help="only the library run")
    parser.add_argument("--no-generator", action="store_true", help="retrieval only (the shipped default anyway)")
    args = parser.parse_args(argv)
    server_args = ["--no-generator"] if args.no_generator else []
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="startref-lsp-bench-") as tmp:
        folder = Path(tmp)
        setups: list[tuple[str, list[CompletionCase]]] = []
        if not args.library_only:
            setups.append(("own .bib (dev papers)", completion_cases(args.papers)))
        if args.library or args.library_only:
            library, paper_index, n_entries = merge_library([args.papers, args.train], folder)
            print(f"library: {n_entries} entries from {len(paper_index)} papers -> {library}")
            setups.append((f"library ({n_entries} entries)", completion_cases(args.papers, library=library, paper_index=paper_index)))
        print(f"machine: {os.cpu_count()} cores, 1-min load average {os.getloadavg()[0]:.1f} before the runs")
        for label, cases in setups:
            print(f"{label}: {len(cases)} masked cites; measuring {args.requests} completions ...", flush=True)
            res = asyncio.run(_measure(cases, args.requests, folder, server_args))
            run: Run = res["run"]
            lat = run.latencies_ms
            n = len(lat)
            cpu = res["cpu_ms"]
            rows.append([label, str(n), f"{_pct(lat, 50):.0f}", f"{_pct(lat, 95):.0f}", f"{max(lat):.0f}",
                         f"{_pct(cpu, 50):.0f} / {_pct(cpu, 95):.0f}",
                         f"{statistics.fmean(lat):.0f}", f"{run.hits_at_5 / max(1, n):.2f}",
                         f"{res['initialize_s'] * 1000:.0f}", f"{res['first_after_initialize_s']:.1f}",
                         f"{_pct(res['cold_ms'], 50):.0f}" if res["cold_ms"] else "-", f"{res['rss_mb']:.0f}"])
            print("  " + " | ".join(rows[-1]), flush=True)  # each row as soon as it is measured
    print()
    print(table(rows, ["bibliography", "n", "p50 ms", "p95 ms", "max ms", "server CPU ms p50 / p95", "mean ms", "gold in top 5",
                       "initialize ms", "first answer s", "first per bib ms (p50)", "RSS MB"]))
    print("\np50/p95: completion round trips on a warm server (models loaded, each bibliography seen once); "
          "'first answer s': from starting the process to the first completion answered (models loading meanwhile); "
          "server CPU: the server process's CPU time per request (opening the document, its diagnostics, the completion), "
          "which other work on the machine barely inflates.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
