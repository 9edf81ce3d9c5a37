"""bench/ranking.py: each row is what its label says (plain MiniLM has no adapter), and each protocol is what its
name says (drafting: nothing after the cursor; shuffled-bib: the .bib in another order; owners not in training)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from startref.citations.engine import Engine
from startref.citations.features import FEATURE_NAMES

PAPER = "txa__substitution"  # a small dev paper (21 cases, 26 entries)


@pytest.fixture(scope="module")
def ranking(repo_root: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_ranking_protocols", repo_root / "bench" / "ranking.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_ranking_protocols"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def one_paper(tmp_path_factory: pytest.TempPathFactory, bench_papers: Path) -> Path:
    root = tmp_path_factory.mktemp("dev")
    shutil.copytree(bench_papers / PAPER, root / "papers" / PAPER)
    shutil.copy2(bench_papers.parent / "manifest.tsv", root / "manifest.tsv")
    return root / "papers"


def test_the_plain_minilm_row_is_the_encoder_without_adapter(ranking: ModuleType, one_paper: Path, engine: Engine) -> None:
    from startref.citations.encoder import load_encoder

    plain = load_encoder(None, adapter=None, keep_traced=False)
    assert plain.adapter_digest == "" and engine.encoder.adapter_digest != ""
    [pc] = ranking.collect(one_paper, engine, quiet=True, plain=plain, timed=3)
    assert len(pc.plain) == len(pc.cases) == 21 and len(pc.ms) == 3
    adapter_col = FEATURE_NAMES.index("enc_sim")
    # The fine-tuned encoder's cosine (the old "MiniLM" row) is not the plain model's.
    assert max(float(np.abs(p - f[:, adapter_col]).max()) for p, f in zip(pc.plain, pc.feats)) > 0.05
    # ... and the plain cosine is the packaged model's: recompute one case directly.
    case, entries = pc.cases[0], [e for e in pc.index.entries]
    from startref.citations.features import entry_text

    ctx = plain.encode([case.query.context_text])[0]
    direct = plain.encode([entry_text(e) for e in entries]) @ ctx
    assert np.allclose(direct, pc.plain[0], atol=1e-4)
    text, results = ranking.main_table([pc], engine, owners_in_training={"txa"})
    assert "MiniLM (plain)" in text and "MiniLM + adapter" in text
    assert results["owners_not_in_training"]["startref"]["n"] == 0  # its owner counted as in training
    _, results = ranking.main_table([pc], engine, owners_in_training=set())
    assert results["owners_not_in_training"]["startref"]["n"] == 21


def test_drafting_and_shuffled_protocols(ranking: ModuleType, one_paper: Path, engine: Engine) -> None:
    [default] = ranking.collect(one_paper, engine, quiet=True, timed=0)
    [drafting] = ranking.collect(one_paper, engine, quiet=True, protocol="drafting", timed=0)
    [shuffled] = ranking.collect(one_paper, engine, quiet=True, protocol="shuffled-bib", timed=0)
    after = FEATURE_NAMES.index("bm25_after")
    assert all(c.query.after == "" for c in drafting.cases) and any(c.query.after for c in default.cases)
    assert not any(f[:, after].any() for f in drafting.feats) and any(f[:, after].any() for f in default.feats)
    assert [c.query.before for c in drafting.cases] == [c.query.before for c in default.cases]
    keys = [e.key for e in default.index.entries]
    assert sorted(e.key for e in shuffled.index.entries) == sorted(keys) != [e.key for e in shuffled.index.entries]
    assert [c.gold for c in shuffled.cases] == [c.gold for c in default.cases]
    with pytest.raises(ValueError):
        ranking.collect(one_paper, engine, protocol="finished", timed=0)


def test_cached_dev_features_are_the_computed_ones(ranking: ModuleType, one_paper: Path, engine: Engine,
                                                   tmp_path: Path) -> None:
    """--cache (features mined by scripts/mine_features.py) gives the features the bench would compute, for every
    protocol; shuffled-bib reorders the cached encoder columns instead of encoding again."""
    from startref.citations.evaluation import load_paper
    from startref.citations.mining_cache import cached_mine

    paper = _paper(one_paper)
    loaded = load_paper(paper.main_tex, list(paper.bibs) or None)
    assert len(list(cached_mine([(PAPER, loaded)], engine.encoder, tmp_path, max_cases=100000,
                                drafting_share=1.0))) == 1
    for protocol in ("default", "drafting", "shuffled-bib"):
        [fresh] = ranking.collect(one_paper, engine, quiet=True, protocol=protocol, timed=0)
        [cached] = ranking.collect(one_paper, engine, quiet=True, protocol=protocol, timed=0, cache=tmp_path)
        assert len(fresh.feats) == len(cached.feats) == 21
        for a, b in zip(fresh.feats, cached.feats):
            assert np.allclose(a, b, atol=1e-5), protocol


def _paper(papers: Path):  # type: ignore[no-untyped-def]
    from startref.citations.training import find_corpus_papers

    return find_corpus_papers(papers)[0]
