"""The library pool model (``citations/library/pool_model.py``): the shipped artifact, on a real training paper.

The paper is one the model was fitted on (a training paper; the dev papers are never used for it), its library the
.bib files of it and of related training papers, as ``scripts/mine_library_lists.py`` builds them. What is checked:
the artifact loads and names only training papers; the paper's own entries keep the ranker's order; the pool an entry
is in changes its score; and on this paper the model moves library entries the way it was measured to
(``bench/library.py``): a citation whose entry is only in the library is found higher than with the old offset,
while one whose entry is in the .bib is not found lower. Without the artifact the old offset still ranks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from startref.citations.bibindex import BibIndex
from startref.citations.engine import Engine, EngineConfig
from startref.citations.evaluation import paper_cases
from startref.citations.library import open_library
from startref.citations.library.pool import LIBRARY_OFFSET, LibraryView, score_library
from startref.citations.library.pool_model import (POOL_INPUT_NAMES, PoolList, PoolModel, load_pool_model,
                                                   pool_inputs)
from startref.citations.library.ranking import rank_with_library
from startref.citations.library.store import Library
from startref.citations.query import build_query
from startref.citations.training import find_corpus_papers

import os

SHARED_DIR = Path(os.environ.get("STARTREF_SHARED", Path(__file__).resolve().parents[3] / "shared")).resolve()
TRAIN = SHARED_DIR / "train" / "papers"

PAPER = "glouppe__paper-approximating-likelihood-ratios-with-classifiers"
#: Related training papers whose .bib files, with the paper's own, make the library.
LIBRARY = (PAPER, "glouppe__paper-avo", "glouppe__paper-author-disambiguation", "mdeff__paper-cnn-graph-nips2016",
           "deepsphere__paper-deepsphere-iclr2020")
CASES = 12


@pytest.fixture(scope="module")
def model() -> PoolModel:
    found = load_pool_model()
    assert found is not None, "citations/artifacts/library_pool.json is missing"
    return found


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    parts = [bib.read_bytes() for name in LIBRARY for bib in sorted((TRAIN / name).rglob("*.bib"))]
    lib_bib = tmp_path_factory.mktemp("pool-library") / "library.bib"
    lib_bib.write_bytes(b"\n".join(parts))
    engine = Engine(EngineConfig(use_generator=False))
    library = open_library([str(lib_bib)])
    library.features(engine.encoder)
    corpus = [p for p in find_corpus_papers(TRAIN / PAPER)]
    assert corpus, f"{PAPER} not found under {TRAIN}"
    paper, cites, cases = paper_cases(corpus[0].main_tex, list(corpus[0].bibs) or None, CASES)
    return engine, library, paper, cites, cases


def _merged(engine: Engine, library: Library, paper, cites, case, index: BibIndex, pool_model):  # type: ignore[no-untyped-def]
    query = build_query(paper.text, case.offset, index, cites[: case.ordinal], after_start=cites[case.ordinal].end)
    ranked = engine.rank(query, index)
    return rank_with_library(engine, library, paper.text, case.offset, cites[: case.ordinal], index, ranked, top=20,
                             after_start=cites[case.ordinal].end, pool_model=pool_model)


def _rank(merged, gold: set[str], in_bib: bool) -> int:  # type: ignore[no-untyped-def]
    for i, r in enumerate(merged, 1):
        if r.entry.key in gold and r.in_bib == in_bib:
            return i
    return len(merged) + 1


def test_the_artifact_loads_and_was_fitted_on_training_papers_only(model: PoolModel) -> None:
    papers = set(model.meta["papers"])  # type: ignore[arg-type]
    dev = {p.name for p in (SHARED_DIR / "bench" / "papers").iterdir()}
    assert len(papers) >= 30 and papers <= {p.name for p in TRAIN.iterdir()} and not papers & dev
    assert model.trees.feature.shape[0] > 0 and (model.trees.feature >= 0).any()
    assert model.keep >= 20 and -3.0 <= model.library_offset + model.library_shift <= 3.0


def test_own_entries_keep_their_order_and_the_pool_changes_a_score(setup, model: PoolModel) -> None:  # type: ignore[no-untyped-def]
    engine, library, paper, cites, cases = setup
    case = cases[len(cases) // 2]
    ranked = engine.rank(case.query, paper.index)
    query = build_query(paper.text, case.offset, LibraryView(paper.index, library.index), cites[: case.ordinal],  # type: ignore[arg-type]
                        after_start=cites[case.ordinal].end)
    scores = score_library(query, library, paper.index, engine.encoder, engine.ranker, model.keep, offset=0.0)
    assert scores.positions.size > 0, "the library proposed nothing for a real citation"
    own_feats = np.stack([r.features for r in ranked])
    pl = PoolList(own_feats, np.array([r.logit for r in ranked], np.float32), ranked[0].gates, scores.features,
                  scores.logits, scores.gates, scores.n_candidates)
    x = pool_inputs(pl)
    assert x.shape == (len(ranked) + scores.positions.size, len(POOL_INPUT_NAMES))
    in_bib = x[:, POOL_INPUT_NAMES.index("in_bib")]
    assert (in_bib[: len(ranked)] == 1).all() and (in_bib[len(ranked):] == 0).all()
    own, lib = model.score(pl)
    assert list(np.argsort(-own, kind="stable")) == list(range(len(ranked)))  # the ranker's order, kept
    # the library's best entry, were it in the .bib instead: same ranker features, another pool, another score
    moved = PoolList(np.vstack([own_feats, scores.features[:1]]), np.append(pl.own_logits, scores.logits[0]),
                     ranked[0].gates, scores.features[1:], scores.logits[1:], scores.gates, scores.n_candidates - 1)
    own2, _ = model.score(moved)
    assert abs(float(own2[-1]) - float(lib[0])) > 1e-3


def test_on_a_training_paper_new_citations_rise_and_bib_entries_do_not_fall(setup) -> None:  # type: ignore[no-untyped-def]
    engine, library, paper, cites, cases = setup
    in_bib = {"model": [], "offset": []}
    new = {"model": [], "offset": []}
    changed = 0
    for case in cases:
        gold = set(case.gold)
        runs = {name: _merged(engine, library, paper, cites, case, paper.index, pm)
                for name, pm in (("model", "shipped"), ("offset", None))}
        for name, merged in runs.items():
            in_bib[name].append(_rank(merged, gold, True))
        changed += [r.entry.key for r in runs["model"]] != [r.entry.key for r in runs["offset"]]
        if any(gold.intersection(c.keys) for c in cites[: case.ordinal]):
            continue  # cited before: not a new citation
        without = BibIndex([e for e in paper.index.entries if e.key not in gold], paper.index.files)
        for name, pm in (("model", "shipped"), ("offset", None)):
            new[name].append(_rank(_merged(engine, library, paper, cites, case, without, pm), gold, False))
    assert changed, "the model changed no list"
    assert len(new["model"]) >= 4
    mrr = {k: float(np.mean(1 / np.array(v))) for k, v in new.items()}
    assert mrr["model"] > mrr["offset"], (new, in_bib)
    hit1 = {k: sum(r == 1 for r in v) for k, v in in_bib.items()}
    assert hit1["model"] >= hit1["offset"], (in_bib, new)


def test_without_the_artifact_the_offset_still_ranks(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine, library, paper, cites, cases = setup
    assert load_pool_model(tmp_path / "missing.json") is None
    case = cases[0]
    plain = _merged(engine, library, paper, cites, case, paper.index, load_pool_model(tmp_path / "missing.json"))
    assert any(not r.in_bib for r in plain) and any(r.in_bib for r in plain)
    assert abs(sum(r.prob for r in plain) - 1.0) < 1e-6
    query = build_query(paper.text, case.offset, LibraryView(paper.index, library.index), cites[: case.ordinal],  # type: ignore[arg-type]
                        after_start=cites[case.ordinal].end)
    old = score_library(query, library, paper.index, engine.encoder, engine.ranker, 20, offset=LIBRARY_OFFSET)
    lib = [r.logit for r in plain if not r.in_bib]
    assert np.allclose(lib, old.logits[: len(lib)], atol=1e-5)  # the ranker's logit + the offset, as before
    own = {r.entry.key: r.logit for r in engine.rank(case.query, paper.index)}
    assert all(abs(r.logit - own[r.entry.key]) < 1e-5 for r in plain if r.in_bib)
