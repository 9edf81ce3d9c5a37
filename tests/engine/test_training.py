"""`startref train` on a small real corpus: mines cases, fits weights, writes an artifact the engine uses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from startref.citations.engine import Engine, EngineConfig
from startref.citations.training import find_corpus_papers
from startref.cli.main import main

TRAIN_PAPERS = ["mathren__top_down_compact_obj_mass", "Nikolay-Lysenko__rl-musician"]


def test_corpus_layouts_are_found(corpus: Path, tmp_path: Path) -> None:
    assert sorted(p.name for p in find_corpus_papers(corpus)) == sorted(TRAIN_PAPERS)
    # A plain folder tree (no SOURCE.txt): every .tex with \documentclass is a paper.
    plain = tmp_path / "mine"
    shutil.copytree(corpus / TRAIN_PAPERS[0], plain / "p1")
    (plain / "p1" / "SOURCE.txt").unlink()
    found = find_corpus_papers(plain)
    assert found and all(p.bibs == () for p in found)


def test_train_command_writes_a_ranker_the_engine_uses(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "model"
    code = main(["train", str(corpus), "-o", str(out), "--max-cases", "20", "--quiet"])
    assert code == 0
    captured = capsys.readouterr()
    assert "trained on" in captured.out
    # Two papers are far fewer than the shipped ranker learned from: the user is told, and how to compare.
    assert "warning: this ranker learned from" in captured.err and f"--model-dir {out}" in captured.err
    data = json.loads((out / "ranker.json").read_text())
    assert data["kind"] == "mlp-listwise"
    weights = np.array(data["linear"] + [w for row in data["hidden"] for w in row])
    assert np.isfinite(weights).all() and np.abs(weights).sum() > 0
    assert data["meta"]["papers"] == 2
    engine = Engine(EngineConfig(use_generator=False, model_dir=str(out)))
    assert engine.ranker.meta["papers"] == 2
    text = "We use residual networks "
    bib = "@article{a, title={Deep Residual Learning}, author={He, K.}}\n@article{b, title={Soil}, author={Moss, A.}}"
    assert {c.key for c in engine.suggest(text, len(text), bib_text=bib).candidates} == {"a", "b"}
    assert np.allclose(engine.ranker.linear, data["linear"], atol=1e-6)
    assert (out / "encoder_adapter.safetensors").is_file()  # the shipped adapter travels with the ranker


def test_no_small_corpus_warning_for_a_corpus_as_large_as_the_shipped_one(tmp_path: Path, repo_root: Path) -> None:
    from startref.cli.train import small_corpus_warning

    shipped = json.loads((repo_root / "citations" / "artifacts" / "ranker.json").read_text())
    queries = shipped["meta"]["train_queries"]
    assert small_corpus_warning(queries, 73, tmp_path) is None
    assert small_corpus_warning(queries // 2 - 1, 10, tmp_path) is not None


def test_linear_ranker_is_available_and_readable(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "linear"
    assert main(["train", str(corpus), "-o", str(out), "--max-cases", "10", "--ranker", "linear", "--quiet"]) == 0
    data = json.loads((out / "ranker.json").read_text())
    assert data["kind"] == "linear-listwise" and data["features"]
    engine = Engine(EngineConfig(use_generator=False, model_dir=str(out)))
    assert np.allclose(engine.ranker.weights, [data["features"].get(n, 0.0) for n in engine.ranker.feature_names])


def test_training_is_deterministic(corpus: Path, tmp_path: Path) -> None:
    for run in ("a", "b"):
        assert main(["train", str(corpus), "-o", str(tmp_path / run), "--max-cases", "10", "--quiet"]) == 0
    assert (tmp_path / "a" / "ranker.json").read_text() == (tmp_path / "b" / "ranker.json").read_text()


def test_empty_corpus_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", str(tmp_path), "-o", str(tmp_path / "out")]) == 2
    assert "no papers found" in capsys.readouterr().err


def test_crossfit_halves_alternate_and_unknown_papers_are_an_error(tmp_path: Path) -> None:
    from startref.citations.errors import StartrefError
    from startref.citations.training import crossfit_encoders, split_halves

    halves = split_halves([{"paper": name} for name in ["c", "a", "b", "a"]])
    assert halves == {"a": 0, "b": 1, "c": 0}
    (tmp_path / "halves.json").write_text(json.dumps(halves))
    encoder_for = crossfit_encoders(tmp_path)
    with pytest.raises(StartrefError) as err:
        encoder_for("z")
    assert "halves.json" in str(err.value)


def test_a_paper_added_after_the_adapters_gets_the_full_adapter(tmp_path: Path, repo_root: Path) -> None:
    """A paper in no half was seen by no adapter: the one fine-tuned on all papers is as unseen for it."""
    import hashlib

    from startref.citations.encoder_training import ADAPTER_FILE
    from startref.citations.training import crossfit_encoders

    crossfit = tmp_path / "crossfit"
    crossfit.mkdir()
    (crossfit / "halves.json").write_text(json.dumps({"a": 0}))
    shutil.copy2(repo_root / "citations" / "artifacts" / ADAPTER_FILE, tmp_path / ADAPTER_FILE)
    digest = hashlib.sha256((tmp_path / ADAPTER_FILE).read_bytes()).hexdigest()[:12]
    assert crossfit_encoders(crossfit)("new-paper").adapter_digest == digest


def test_mined_features_are_cached_and_reused(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    args = ["train", str(corpus), "--max-cases", "12", "--drafting-share", "0.5", "--cache", str(cache)]
    assert main([*args, "-o", str(tmp_path / "a")]) == 0
    first = capsys.readouterr().err
    assert first.count("[mined]") == 2 and "(6 drafting)" in first
    assert main([*args, "-o", str(tmp_path / "b")]) == 0
    second = capsys.readouterr().err
    assert second.count("[cache]") == 2 and "[mined]" not in second
    assert (tmp_path / "a" / "ranker.json").read_text() == (tmp_path / "b" / "ranker.json").read_text()
    assert json.loads((tmp_path / "a" / "ranker.json").read_text())["meta"]["drafting_share"] == 0.5
    # Other options are other features: nothing stale is reused.
    assert main(["train", str(corpus), "--max-cases", "12", "--cache", str(cache), "-o", str(tmp_path / "c")]) == 0
    assert capsys.readouterr().err.count("[mined]") == 2
    assert (tmp_path / "a" / "ranker.json").read_text() != (tmp_path / "c" / "ranker.json").read_text()


def test_drafting_cases_see_nothing_after_the_cursor(corpus: Path) -> None:
    from startref.citations.encoder import load_encoder
    from startref.citations.features import FEATURE_NAMES
    from startref.citations.mining_cache import mine_paper
    from startref.citations.training import _readable

    paper, loaded = next(_readable(find_corpus_papers(corpus), None))
    mined = mine_paper(paper.name, loaded, load_encoder(None), max_cases=20, drafting_share=0.25)
    assert len(mined.drafting) == 5
    after = FEATURE_NAMES.index("bm25_after")
    for i, feats in mined.drafting.items():
        assert not feats[:, after].any()  # nothing after the cursor to match
        assert feats.shape == mined.feats[i].shape
    assert any(mined.feats[i][:, after].any() for i in mined.drafting)


def test_make_train_reproduces_the_shipped_recipe(repo_root: Path, bench_papers: Path) -> None:
    """scripts/train_default.sh (= `make train`) runs with the options the shipped artifacts record, and the encoder
    epochs it names are the epochs the shipped adapter ran."""
    import re
    import shlex

    script = (repo_root / "scripts" / "train_default.sh").read_text()
    meta = json.loads((repo_root / "citations" / "artifacts" / "ranker.json").read_text())["meta"]
    adapter = json.loads((repo_root / "citations" / "artifacts" / "encoder_adapter.json").read_text())
    epochs = {int(n) for n in re.findall(r"--encoder-epochs[ =](\d+)", script)}
    assert epochs == {len(adapter["epochs"])}, (epochs, len(adapter["epochs"]))
    command = next(line for line in script.splitlines() if line.strip().startswith(".venv/bin/startref train"))
    words = shlex.split(command.replace('"$@"', ""))
    options = dict(zip(words, words[1:]))
    recipe = {"--max-cases": "max_cases_per_paper", "--drafting-share": "drafting_share", "--members": "members",
              "--steps": "steps", "--hidden": "hidden", "--seed": "seed"}
    recorded = {"drafting_share": 0.0, **meta}  # rankers fitted before the option existed had no drafting cases
    for flag, key in recipe.items():
        assert flag in options, f"train_default.sh must state {flag} (the shipped ranker ran with {recorded[key]})"
        assert float(options[flag]) == float(recorded[key]), (flag, options[flag], recorded[key])
    assert options.get("--crossfit") == "citations/artifacts/crossfit" and meta.get("crossfit")
    # The same papers: those training.json lists (the corpus has grown since), and all of them still exist.
    assert options.get("--papers-from") == "citations/artifacts/training.json"
    trained = json.loads((repo_root / "citations" / "artifacts" / "training.json").read_text())["papers"]
    assert len(trained) == meta["papers"]
    corpus = {p.name for p in find_corpus_papers(bench_papers.parents[1] / "train" / "papers")}
    assert set(trained) <= corpus


def test_the_cache_fingerprint_ignores_how_the_paper_path_is_spelled(corpus: Path, tmp_path: Path) -> None:
    """The same paper reached through a symlink (../shared vs /work/shared) has the same features: no re-mining."""
    from startref.citations.encoder import load_encoder
    from startref.citations.evaluation import load_paper
    from startref.citations.mining_cache import paper_fingerprint

    (tmp_path / "link").symlink_to(corpus, target_is_directory=True)
    encoder = load_encoder(None)
    prints = []
    for root in (corpus, tmp_path / "link"):
        paper = next(p for p in find_corpus_papers(root) if p.name == TRAIN_PAPERS[1])
        loaded = load_paper(paper.main_tex, list(paper.bibs) or None)
        assert str(root) in loaded.index.entries[0].file
        prints.append(paper_fingerprint(paper.name, loaded, encoder, max_cases=10, seed=0, drafting_share=0.0))
        prints.append(paper_fingerprint(paper.name, loaded, encoder, max_cases=11, seed=0, drafting_share=0.0))
    assert prints[0] == prints[2] and prints[1] == prints[3] and prints[0] != prints[1]
