"""`startref train --ranker trees` on a small real corpus: trees over a trained ranker, an ensemble the engine uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from startref.citations.engine import Engine, EngineConfig
from startref.citations.tree_ensemble import EnsembleRanker, TreeRanker
from startref.cli.main import main

try:  # the train extra; its wheel also needs the system's OpenMP runtime (libgomp1, installed with build-essential)
    import lightgbm  # noqa: F401
except (ImportError, OSError) as exc:
    pytest.skip(f"LightGBM is not usable here: {exc}", allow_module_level=True)

TRAIN_PAPERS = ["mathren__top_down_compact_obj_mass", "Nikolay-Lysenko__rl-musician"]


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


def test_make_train_states_the_shipped_trees_recipe(repo_root: Path, bench_papers: Path) -> None:
    """The shipped ranker is networks + trees; scripts/train_default.sh (= `make train`) fits the trees with the
    options the shipped file records, on papers that all exist in shared/train."""
    import shlex

    from startref.citations.training import find_corpus_papers

    data = json.loads((repo_root / "citations" / "artifacts" / "ranker.json").read_text())
    assert data["kind"] == "ensemble" and [m["kind"] for m in data["members"]] == ["mlp-listwise", "trees"]
    script = (repo_root / "scripts" / "train_default.sh").read_text()
    line = next(x for x in script.splitlines() if x.startswith(".venv/bin/startref train") and "--ranker trees" in x)
    words = shlex.split(line)
    options = dict(zip(words, words[1:]))
    trees = data["members"][1]["meta"]
    assert options["--base"] == "citations/artifacts" and options["-o"] == "citations/artifacts"
    assert options["--crossfit"] == "citations/artifacts/crossfit" == trees["crossfit"]
    assert float(options["--tree-weight"]) == data["weights"][1] and int(options["--top-k"]) == data["top_k"]
    assert int(options["--tree-rounds"]) == trees["rounds"] and int(options["--seed"]) == trees["seed"]
    assert float(options["--drafting-share"]) == trees["drafting_share"]
    assert int(options["--max-cases"]) == trees["max_cases_per_paper"]
    listing = json.loads((repo_root / "citations" / "artifacts" / "training.json").read_text())
    assert len(listing["tree_papers"]) == trees["papers"]
    corpus = {p.name for p in find_corpus_papers(bench_papers.parents[1] / "train" / "papers")}
    assert set(listing["tree_papers"]) <= corpus and set(listing["papers"]) <= set(listing["tree_papers"])
