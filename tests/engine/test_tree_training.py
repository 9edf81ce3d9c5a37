"""`startref train --ranker trees` on a small real corpus: trees over a trained ranker, an ensemble the engine uses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from startref.citations.engine import Engine, EngineConfig
from startref.citations.tree_ensemble import EnsembleRanker, TreeRanker
from startref.cli.main import main

pytest.importorskip("lightgbm")

TRAIN_PAPERS = ["mathren__top_down_compact_obj_mass", "Nikolay-Lysenko__rl-musician"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, bench_papers: Path) -> Path:
    train_dir = bench_papers.parents[1] / "train" / "papers"
    out = tmp_path_factory.mktemp("corpus")
    for name in TRAIN_PAPERS:
        shutil.copytree(train_dir / name, out / name)
    return out


def test_trees_over_a_trained_ranker_make_an_ensemble_the_engine_uses(corpus: Path, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    base, out, cache = tmp_path / "base", tmp_path / "model", tmp_path / "cache"
    common = ["--max-cases", "20", "--quiet", "--cache", str(cache)]
    assert main(["train", str(corpus), "-o", str(base), "--members", "1", "--steps", "20", *common]) == 0
    assert main(["train", str(corpus), "-o", str(out), "--ranker", "trees", "--base", str(base),
                 "--tree-rounds", "15", "--tree-weight", "0.5", "--top-k", "30", *common]) == 0
    assert "trees fitted on" in capsys.readouterr().out
    data = json.loads((out / "ranker.json").read_text())
    assert data["kind"] == "ensemble" and [m["kind"] for m in data["members"]] == ["mlp-listwise", "trees"]
    assert data["weights"] == [1.0, 0.5] and data["top_k"] == 30
    listing = json.loads((out / "training.json").read_text())
    assert listing["papers"] == sorted(TRAIN_PAPERS) == listing["tree_papers"]
    engine = Engine(EngineConfig(use_generator=False, model_dir=str(out)))
    assert isinstance(engine.ranker, EnsembleRanker) and isinstance(engine.ranker.members[1], TreeRanker)
    text = "We use residual networks "
    bib = "@article{a, title={Deep Residual Learning}, author={He, K.}}\n@article{b, title={Soil}, author={Moss, A.}}"
    suggestion = engine.suggest(text, len(text), bib_text=bib)
    assert {c.key for c in suggestion.candidates} == {"a", "b"}
    # Run again on its own output: the base is the ensemble's networks, and the result is the same file.
    first = (out / "ranker.json").read_text()
    assert main(["train", str(corpus), "-o", str(out), "--ranker", "trees", "--base", str(out),
                 "--tree-rounds", "15", "--tree-weight", "0.5", "--top-k", "30", *common]) == 0
    assert (out / "ranker.json").read_text() == first


def test_trees_need_a_base(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", str(corpus), "-o", str(tmp_path / "m"), "--ranker", "trees", "--quiet"]) != 0
    assert "--base" in capsys.readouterr().err
