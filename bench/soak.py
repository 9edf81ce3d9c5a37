"""Soak test: does the server's memory stay flat under hours of real editor traffic? (issue #11)

Sends masked-citation requests from the 20 bench papers at a fixed rate for N minutes, in the mix an editor
produces: ``path`` + ``bib`` (VS Code with a saved file), ``bib`` alone, and ``bib_text`` that is *new on every
request* (Overleaf sends the bibliography inline; each edit changes it, so every request is a cache miss that
must not pile up). Prints the server's RSS every 30 s and p50/p95 latency per minute, then a summary: RSS after
the warm-up and at the end, the growth, and the on-disk cache size.

    nice -n 10 python bench/soak.py --minutes 30 --rate 5          # starts a server on a free loopback port
    python bench/soak.py --url http://127.0.0.1:8765 --pid 1234    # an already running server

Target (issue #11): after a 2-minute warm-up, RSS grows by at most 50 MB over 30 minutes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_requests import SHARED, masked_requests  # noqa: E402  (the load benchmark's masked requests)

MIX = ("path+bib", "bib", "bib_text")


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def dir_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6 if folder.is_dir() else 0.0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(cache_dir: Path, threads: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = dict(os.environ, STARTREF_CACHE_DIR=str(cache_dir))
    env.pop("STARTREF_TOKEN", None)
    log = open(cache_dir / "server.log", "wb")  # noqa: SIM115 - the child keeps it
    proc = subprocess.Popen([sys.executable, "-m", "startref.server", "--port", str(port), "--no-generator",
                             "--threads", str(threads), "--log-level", "warning"], stdout=log, stderr=subprocess.STDOUT,
                            env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {(cache_dir / 'server.log').read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("server did not become ready")


def bodies(per_paper: int) -> list[tuple[str, dict]]:
    """(kind, body) in the mix, cycling through papers; bib_text bodies get their text at send time."""
    out: list[tuple[str, dict]] = []
    for i, req in enumerate(masked_requests(SHARED / "bench" / "papers", k=5, per_paper=per_paper)):
        kind = MIX[i % len(MIX)]
        body = dict(req.body)
        if kind != "path+bib":
            body.pop("path", None)
        if kind == "bib_text":
            body["bib_text"] = "".join(Path(b).read_text(encoding="utf-8", errors="replace") for b in body.pop("bib"))
        out.append((kind, body))
    return out


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=5.0, help="requests per second (open loop)")
    parser.add_argument("--url", default=None, help="a running server (else one is started)")
    parser.add_argument("--pid", type=int, default=None, help="its process id, for RSS")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup-minutes", type=float, default=2.0)
    args = parser.parse_args(argv)

    cache_dir = Path(tempfile.mkdtemp(prefix="startref-soak-"))
    proc = None
    if args.url:
        url, pid = args.url, args.pid
    else:
        proc, url = start_server(cache_dir, args.threads)
        pid = proc.pid
    pool = bodies(per_paper=60)
    lock = threading.Lock()
    by_minute: dict[int, list[float]] = {}
    errors: dict[int, int] = {}
    kinds: dict[str, int] = {}
    codes: dict[str, int] = {}
    rss: list[tuple[float, float]] = []
    start = time.monotonic()
    end = start + args.minutes * 60
    client = httpx.Client(base_url=url, timeout=120, limits=httpx.Limits(max_connections=16))

    def send(n: int) -> None:
        kind, body = pool[n % len(pool)]
        if kind == "bib_text":  # new content every time: a cache miss, as an editor's live bibliography
            body = dict(body, bib_text=body["bib_text"] + f"\n@misc{{soak{n}, title = {{Soak request {n}}}}}\n")
        t0 = time.monotonic()
        try:
            response = client.post("/v1/suggest", json=body)
            ok = response.status_code == 200
            code = "ok" if ok else response.json().get("error", {}).get("code", str(response.status_code))
        except (httpx.HTTPError, ValueError) as exc:
            ok, code = False, type(exc).__name__
        ms = (time.monotonic() - t0) * 1000
        minute = int((t0 - start) // 60)
        with lock:
            by_minute.setdefault(minute, []).append(ms)
            kinds[kind] = kinds.get(kind, 0) + 1
            codes[code] = codes.get(code, 0) + 1
            if not ok:
                errors[minute] = errors.get(minute, 0) + 1

    print(f"soak: {args.minutes:g} min at {args.rate:g} req/s against {url} (pid {pid}), mix {'/'.join(MIX)}, "
          f"{len(pool)} distinct requests", flush=True)
    print("| t (s) | RSS (MB) |\n|---|---|", flush=True)
    next_rss = start
    n = 0
    with ThreadPoolExecutor(max_workers=8) as executor:
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_rss and pid:
                rss.append((now - start, rss_mb(pid)))
                print(f"| {rss[-1][0]:.0f} | {rss[-1][1]:.0f} |", flush=True)
                next_rss += 30
            executor.submit(send, n)
            n += 1
            time.sleep(max(0.0, start + n / args.rate - time.monotonic()))
    if pid:
        rss.append((time.monotonic() - start, rss_mb(pid)))
    client.close()
    print("\n| minute | requests | p50 (ms) | p95 (ms) | errors |\n|---|---|---|---|---|")
    for minute in sorted(by_minute):
        values = by_minute[minute]
        print(f"| {minute + 1} | {len(values)} | {pct(values, 50):.0f} | {pct(values, 95):.0f} | "
              f"{errors.get(minute, 0)} |")
    warm = [r for t, r in rss if t >= args.warmup_minutes * 60]
    if warm:
        print(f"\nRSS after {args.warmup_minutes:g} min warm-up: {warm[0]:.0f} MB; at the end: {rss[-1][1]:.0f} MB; "
              f"growth {rss[-1][1] - warm[0]:+.0f} MB over {(rss[-1][0] - args.warmup_minutes * 60) / 60:.1f} min; "
              f"peak {max(r for _t, r in rss):.0f} MB")
    print(f"answers: {codes}")
    print(f"requests by kind: {kinds}; on-disk cache: {dir_mb(cache_dir):.1f} MB")
    if proc is not None:
        proc.terminate()
        proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
