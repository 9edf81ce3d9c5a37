"""Load test for the local server: N concurrent clients replay masked-citation requests from real papers.

Why: the issue sets latency targets on a 2-core laptop (own bibliography p50 <= 150 ms / p95 <= 400 ms for one
client; a ~28k-entry library p95 <= 600 ms after the first request; RSS <= 1.5 GB). This script measures exactly
that, against a running server (``--url``) or one it starts itself on a free loopback port.

Requests: every ``\\cite...{...}`` in the bench papers' .tex files is removed in turn and the cursor put where it
was (the editor's situation: "a citation belongs here"); ``\\nocite`` is left alone (it prints nothing, so no
ranking could ever place it). With ``--library`` all bench + train bibliographies are merged into one .bib with
unique keys (``<key>__p<paper index>``) written to a temp dir, and every request names it.

What is cached, and so what "cold" and "warm" mean here (there is no response cache: every request is ranked):

- the bibliography: parsed index (in process, by path, size and mtime), per-bibliography feature data and entry
  embeddings (in process; on disk under the startref cache for bibliographies of 200+ entries). The **first request
  per bibliography** pays for these; it is sent once per paper before the runs and reported on its own line
  (``--empty-disk-cache`` gives a self-started server an empty cache folder, so it also embeds every entry).
- the request's own texts: the encoder keeps the embeddings of the three query texts (context, sentence, words
  before the cursor) in an in-process LRU. An **unseen** run (cold-cache row) sends requests whose body the server
  has never received, on bibliographies already loaded: the editor's situation. A **replayed** run (warm-cache row)
  sends the same requests again, so every query embedding comes from the LRU: pressing the hotkey twice at one place.
  (An unseen request can still share a query text with an earlier one, e.g. two citations in one sentence share
  the sentence; that is the editor's situation too.)

    python bench/load.py                       # starts a server (default models), 1 client, 100 requests
    python bench/load.py --clients 4 --requests 200 --no-generator
    python bench/load.py --library --requests 60
    python bench/load.py --url http://127.0.0.1:8765 --token T

Bounded on purpose: ``--requests`` total and ``--duration`` seconds, whichever comes first; loopback URLs only.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ is not a package; its modules import each other

from load_requests import (  # noqa: E402
    SHARED, Request, RunPlan, masked_requests, merge_library, parse_source, plan_runs,
)

__all__ = ["Request", "parse_source", "masked_requests", "merge_library", "plan_runs", "RunPlan", "run_load", "main"]

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Result:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    hits_at_1: int = 0
    hits_at_5: int = 0
    answered: int = 0
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    sent: list[Request] = field(default_factory=list)  # what was sent before the run ended (a replay sends these)


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))]


def run_load(url: str, requests: Sequence[Request], *, clients: int, duration_s: float,
             token: str | None = None, timeout_s: float = 600.0) -> Result:
    """Send ``requests`` from ``clients`` threads (each its own connection) until done or ``duration_s`` passes."""
    result = Result()
    lock = threading.Lock()
    it: Iterator[Request] = iter(requests)
    deadline = time.monotonic() + duration_s
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def worker() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=timeout_s) as client:
            while time.monotonic() < deadline:
                with lock:
                    req = next(it, None)
                    if req is not None:
                        result.sent.append(req)
                if req is None:
                    return
                t0 = time.perf_counter()
                try:
                    response = client.post("/v1/suggest", json=req.body)
                except httpx.HTTPError as exc:
                    with lock:
                        result.errors.append(f"{req.paper}: {type(exc).__name__}: {exc}")
                    continue
                ms = (time.perf_counter() - t0) * 1000.0
                with lock:
                    result.latencies_ms.append(ms)
                    result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1
                    if response.status_code == 200:
                        keys = [c["key"] for c in response.json()["candidates"]]
                        result.answered += 1
                        result.hits_at_1 += bool(keys[:1]) and keys[0] in req.keys
                        result.hits_at_5 += any(key in req.keys for key in keys[:5])
                    elif len(result.errors) < 20:
                        result.errors.append(f"{req.paper}: {response.status_code} {response.text[:200]}")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.wall_s = time.perf_counter() - t0
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(args: argparse.Namespace, scratch: Path) -> tuple[subprocess.Popen[bytes], str, float]:
    port = _free_port()
    cmd = [sys.executable, "-m", "startref.server", "--port", str(port), "--log-level", "warning",
           "--threads", str(args.threads)]
    if args.no_generator:
        cmd.append("--no-generator")
    if args.model:
        cmd += ["--model", args.model]
    if args.model_dir:
        cmd += ["--model-dir", args.model_dir]
    env = dict(os.environ)
    env.pop("STARTREF_TOKEN", None)
    if args.empty_disk_cache:
        from startref.citations.models import cache_dir

        empty = scratch / "cache"
        empty.mkdir()
        if (cache_dir() / "models").is_dir():  # converting the generator again measures nothing of interest
            (empty / "models").symlink_to(cache_dir() / "models")
        env["STARTREF_CACHE_DIR"] = str(empty)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    while time.perf_counter() - t0 < 600:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise SystemExit(f"server exited with {proc.returncode}:\n{err[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url, time.perf_counter() - t0
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("server did not become ready in 600 s")


def _server_rss_mb(pid: int | None, url: str) -> float | None:
    """Resident memory of the server process (and its children) in MB; found by port when not started here."""
    try:
        import psutil
    except ImportError:
        return None
    try:
        if pid is None:
            port = urlparse(url).port
            pid = next((c.pid for c in psutil.net_connections("tcp")
                        if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN and c.pid), None)
            if pid is None:
                return None
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs) / 1e6
    except (psutil.Error, OSError):
        return None


def _row(label: str, res: Result, rss: float | None, skip_first: bool = False) -> str:
    lat = res.latencies_ms[1:] if skip_first else res.latencies_ms
    n = len(lat)
    thr = len(res.latencies_ms) / res.wall_s if res.wall_s else float("nan")
    rss_s = f"{rss:8.0f}" if rss is not None else "     n/a"
    hit1 = res.hits_at_1 / res.answered if res.answered else float("nan")
    hit5 = res.hits_at_5 / res.answered if res.answered else float("nan")
    return (f"{label:<22}{n:>6}{sum(v for c, v in res.statuses.items() if c != 200):>6}"
            f"{_pct(lat, 50):>9.1f}{_pct(lat, 95):>9.1f}{_pct(lat, 99):>9.1f}"
            f"{statistics.fmean(lat) if lat else float('nan'):>9.1f}{thr:>8.2f}{rss_s}{hit1:>7.2f}{hit5:>7.2f}")


HEADER = (f"{'run':<22}{'n':>6}{'err':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'mean':>9}{'req/s':>8}"
          f"{'RSS MB':>8}{'hit@1':>7}{'hit@5':>7}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server (loopback only); default: start one on a free port")
    parser.add_argument("--token", default=os.environ.get("STARTREF_TOKEN"), help="bearer token of --url")
    parser.add_argument("--clients", type=int, nargs="+", default=[1], help="concurrent clients (one run each)")
    parser.add_argument("--requests", type=int, default=100, help="requests per run (default 100)")
    parser.add_argument("--duration", type=float, default=120.0, help="max seconds per run (default 120)")
    parser.add_argument("--max-bibs", type=int, default=20,
                        help="bibliographies (papers) to include; each gets one unmeasured first request")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--papers", type=Path, default=SHARED / "bench" / "papers")
    parser.add_argument("--train", type=Path, default=SHARED / "train" / "papers")
    parser.add_argument("--library", action="store_true",
                        help="merge bench + train bibliographies into one library and query it")
    parser.add_argument("--library-entries", type=int, default=28_000,
                        help="with --library: add training papers until the library has this many entries "
                             "(default 28000, the ~28k-entry library of the latency target; 0: all of them)")
    parser.add_argument("--no-generator", action="store_true", help="(self-started server) retrieval only")
    parser.add_argument("--model", help="(self-started server) generator model")
    parser.add_argument("--model-dir", help="(self-started server) trained ranker directory")
    parser.add_argument("--threads", type=int, default=2, help="(self-started server) model threads")
    parser.add_argument("--empty-disk-cache", action="store_true",
                        help="(self-started server) an empty startref cache folder: no stored entry embeddings or "
                             "traced encoder (the converted generator is linked in)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)

    if args.url and (urlparse(args.url).hostname or "") not in LOOPBACK:
        parser.error("--url must be a loopback address (127.0.0.1, localhost, [::1])")
    tmp = tempfile.TemporaryDirectory(prefix="startref-load-")
    library = paper_index = None
    if args.library:
        t0 = time.perf_counter()
        library, paper_index, n_entries = merge_library([args.papers, args.train], Path(tmp.name),
                                                        args.library_entries or None)
        print(f"library: {n_entries} entries from {len(paper_index)} papers, "
              f"{library.stat().st_size / 1e6:.1f} MB -> {library} ({time.perf_counter() - t0:.1f}s)")
    requests = masked_requests(args.papers, k=args.k, library=library, paper_index=paper_index)
    print(f"{len(requests)} masked-citation requests from {args.papers}")

    proc = None
    startup_s = None
    url = args.url
    if url is None:
        proc, url, startup_s = _start_server(args, Path(tmp.name))
        print(f"started server at {url}: ready (/healthz 200) after {startup_s:.1f}s")
    try:
        report: dict = {"url": url, "startup_s": startup_s, "library": bool(args.library),
                        "empty_disk_cache": bool(args.empty_disk_cache), "runs": []}
        plan = plan_runs(requests, [args.requests] * len(args.clients), max_bibs=args.max_bibs)
        # cold bibliography: one request per distinct bibliography first; it pays parsing, feature data and entry
        # embeddings (from the on-disk cache when present); these requests never come back in the runs below
        # (no client timeout worth the name: embedding a 28k-entry library on a busy 2-core machine takes minutes)
        cold = run_load(url, plan.firsts, clients=1, duration_s=7200, token=args.token, timeout_s=7200)
        if cold.errors or cold.statuses.keys() - {200}:
            for err in cold.errors[:5]:
                print(f"  error: {err}")
            raise SystemExit(f"the first requests failed ({cold.statuses}); nothing measured")
        report["first_request_ms"] = cold.latencies_ms[0] if cold.latencies_ms else None
        report["first_per_bibliography_ms"] = cold.latencies_ms
        if cold.latencies_ms:
            print(f"cold bibliography (first request per bibliography, {len(cold.latencies_ms)}): first "
                  f"{cold.latencies_ms[0]:.0f} ms, p50 {_pct(cold.latencies_ms, 50):.0f} ms, "
                  f"max {max(cold.latencies_ms):.0f} ms; on-disk embedding cache "
                  f"{'empty' if args.empty_disk_cache else 'as left by earlier runs'}")
        load1 = os.getloadavg()[0]
        report["cores"], report["load_average_before"] = os.cpu_count(), load1
        print(f"machine: {os.cpu_count()} cores, 1-min load average {load1:.1f} before the runs "
              "(other work on the machine inflates every number)")
        print(f"{plan.pool_size} requests left after the first ones; unseen = body never sent to this server "
              "(bibliography loaded), replayed = the same requests again (query embeddings cached)")
        print(HEADER)
        for n_clients, todo in zip(args.clients, plan.batches):
            if len(todo) < args.requests:
                print(f"  note: only {len(todo)} unseen requests left for {n_clients} client(s) "
                      f"(asked for {args.requests}); none is repeated")
            for kind in ("unseen", "replayed"):
                res = run_load(url, todo, clients=n_clients, duration_s=args.duration, token=args.token)
                todo = res.sent  # a replay sends exactly what the unseen run sent (it may have run out of time)
                rss = _server_rss_mb(proc.pid if proc else None, url)
                print(_row(f"{n_clients} client(s) {kind}", res, rss))
                for err in res.errors[:5]:
                    print(f"  error: {err}")
                lat = res.latencies_ms
                report["runs"].append({"clients": n_clients, "requests": kind, "n": len(lat),
                                       "statuses": res.statuses,
                                       "p50_ms": _pct(lat, 50), "p95_ms": _pct(lat, 95), "p99_ms": _pct(lat, 99),
                                       "mean_ms": statistics.fmean(lat) if lat else None,
                                       "throughput_rps": len(lat) / res.wall_s if res.wall_s else None,
                                       "rss_mb": rss, "hit@1": res.hits_at_1 / max(1, res.answered),
                                       "hit@5": res.hits_at_5 / max(1, res.answered)})
        if args.json:
            args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
