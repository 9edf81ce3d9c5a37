"""Shared fixtures: where the real dev papers live.

The dev papers sit in ``shared/`` beside the checkout (``<repo>/../shared``), both on a developer's machine and
in CI. Tests that use them fail loudly when they are missing instead of skipping: a suite that silently skips
its real-data tests proves nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("STARTREF_SHARED", REPO_ROOT.parent / "shared")).resolve()
BENCH_PAPERS = SHARED_DIR / "bench" / "papers"


@pytest.fixture(scope="session")
def bench_papers() -> Path:
    """The folder of the 20 real dev papers (``shared/bench/papers``)."""
    assert BENCH_PAPERS.is_dir(), f"dev papers not found at {BENCH_PAPERS} (set STARTREF_SHARED)"
    return BENCH_PAPERS


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT
