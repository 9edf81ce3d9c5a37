"""Fixtures for the audit tests: one retrieval-only engine for the session (the real shipped models)."""

from __future__ import annotations

import pytest

from startref.citations.engine import Engine, EngineConfig


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The shipped encoder and ranker, no generator (``startref check`` never runs the LM stage)."""
    return Engine(EngineConfig(use_generator=False))
