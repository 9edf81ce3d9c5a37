"""One warm engine for the engine tests (the embedded MiniLM and the shipped ranker, no LM)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from startref.citations.engine import Engine, EngineConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "resnet"
#: Two small real papers of shared/train: the corpus the `startref train` tests fit on.
TRAIN_PAPERS = ("mathren__top_down_compact_obj_mass", "Nikolay-Lysenko__rl-musician")


@pytest.fixture(scope="session")
def engine() -> Engine:
    eng = Engine(EngineConfig(use_generator=False))
    eng.warm()
    return eng


@pytest.fixture(scope="session")
def example_dir() -> Path:
    return EXAMPLE


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, bench_papers: Path) -> Path:
    """A copy of ``TRAIN_PAPERS`` in the shared/ layout (one folder per paper with its SOURCE.txt)."""
    train_dir = bench_papers.parents[1] / "train" / "papers"
    out = tmp_path_factory.mktemp("corpus")
    for name in TRAIN_PAPERS:
        shutil.copytree(train_dir / name, out / name)
    return out
