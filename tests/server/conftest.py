"""A real startref server for the tests: ``python -m startref.server`` under uvicorn on a free loopback port.

Why a subprocess: it exercises the same entry point users run (flags, settings, uvicorn, lifespan warm-up) and keeps
the server's threads and models out of the test process. One retrieval-only server serves the whole session
(loading models once); it requires a token and allows one extra origin so the security tests have something to
check against.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from serverproc import RunningServer, start_server, stop_server  # noqa: E402

TOKEN = "test-token-8f3a"
OVERLEAF = "https://www.overleaf.com"
SMALL_BIB = r"""
@article{vaswani2017attention,
  title = {Attention Is All You Need},
  author = {Vaswani, Ashish and Shazeer, Noam and Parmar, Niki},
  journal = {Advances in Neural Information Processing Systems},
  year = {2017}
}
@inproceedings{he2016deep,
  title = {Deep Residual Learning for Image Recognition},
  author = {He, Kaiming and Zhang, Xiangyu and Ren, Shaoqing and Sun, Jian},
  booktitle = {CVPR},
  year = {2016}
}
@article{li2018minimap2,
  title = {Minimap2: pairwise alignment for nucleotide sequences},
  author = {Li, Heng},
  journal = {Bioinformatics},
  year = {2018}
}
@article{kingma2014adam,
  title = {Adam: A Method for Stochastic Optimization},
  author = {Kingma, Diederik P. and Ba, Jimmy},
  journal = {arXiv preprint arXiv:1412.6980},
  year = {2014}
}
"""
SMALL_KEYS = {"vaswani2017attention", "he2016deep", "li2018minimap2", "kingma2014adam"}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The session's retrieval-only server (token required, Overleaf origin allowed)."""
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    extra = os.environ.get("STARTREF_TEST_SERVER_ARGS", "").split()  # e.g. "--model-dir DIR" to test a trained ranker
    running = start_server(["--no-generator", "--token", TOKEN, "--allow-origin", OVERLEAF, "--threads", "2", *extra],
                           log_path)
    yield running
    stop_server(running)


@pytest.fixture
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


@pytest.fixture(scope="session")
def small_bib() -> str:
    """A four-entry bibliography sent inline as ``bib_text``."""
    return SMALL_BIB


@pytest.fixture(scope="session")
def small_keys() -> set[str]:
    return set(SMALL_KEYS)


def _assert_error(response: httpx.Response, status: int, code: str, mentions: str | None = None) -> str:
    """The response is ``{"error": {"code", "message"}}`` with this status and code; returns the message."""
    assert response.status_code == status, response.text[:2000]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    message = body["error"]["message"]
    assert message and "Traceback" not in message
    if mentions is not None:
        assert mentions in message, message
    return message


@pytest.fixture(scope="session")
def assert_error():
    """The error-shape assertion, shared by the error and security tests."""
    return _assert_error
