"""One warm engine for the engine tests (the embedded MiniLM and the shipped ranker, no LM)."""

from __future__ import annotations

from pathlib import Path

import pytest

from startref.citations.engine import Engine, EngineConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "resnet"


@pytest.fixture(scope="session")
def engine() -> Engine:
    eng = Engine(EngineConfig(use_generator=False))
    eng.warm()
    return eng


@pytest.fixture(scope="session")
def example_dir() -> Path:
    return EXAMPLE
