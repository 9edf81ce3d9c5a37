"""Start and stop a real ``python -m startref.server`` process on a free loopback port (used by conftest and tests).

A module with a distinct name (not ``helpers``) because the test folders are not packages: each folder's conftest
puts its own directory on ``sys.path``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["RunningServer", "free_port", "start_server", "stop_server"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    base_url: str
    token: str | None
    process: subprocess.Popen[bytes]
    log_path: Path

    def client(self, *, auth: bool = True, **kwargs: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if auth and self.token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60.0, **kwargs)  # type: ignore[arg-type]

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def start_server(args: Sequence[str], log_path: Path, *, ready_timeout: float = 180.0) -> RunningServer:
    """Start ``python -m startref.server`` and wait for /healthz 200; fail fast if the models cannot load."""
    port = free_port()
    env = dict(os.environ)
    env.pop("STARTREF_TOKEN", None)
    with open(log_path, "wb") as log_file:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "startref.server", "--port", str(port), *args],
            stdout=log_file, stderr=subprocess.STDOUT, env=env,
        )
    token = None
    if "--token" in args:
        token = args[list(args).index("--token") + 1]
    server = RunningServer(f"http://127.0.0.1:{port}", token, process, log_path)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log()}")
        try:
            response = httpx.get(f"{server.base_url}/healthz", timeout=2.0)
            status = response.status_code
            if status == 200:
                return server
            if status == 503 and response.json()["error"]["code"] != "not_ready":
                stop_server(server)
                raise RuntimeError(f"server could not load its models: {response.text}")
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop_server(server)
    raise RuntimeError(f"server not ready after {ready_timeout}s:\n{server.log()}")


def stop_server(server: RunningServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
