"""The library at scale, on a real library (.bib files of training papers): the candidate stage, re-indexing that
reuses earlier vectors, and the progress bar of the first index.

The candidate stage's promise is that a row it keeps gets exactly the features it would get if every library row
were scored (so the ranker's numbers do not change), and that the rows exhaustive scoring puts first are among the
kept ones; its limits are made small here so that it really leaves rows out of an 81-entry library.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from startref.citations.bibindex import BibIndex
from startref.citations.engine import Engine, EngineConfig
from startref.citations.features import FEATURE_NAMES, compute_features
from startref.citations.library import open_library
from startref.citations.library.candidates import CandidateLimits, candidate_features, candidate_rows
from startref.citations.library.indexing import VectorStore, embed_texts
from startref.citations.library.pool import BIB_ORDER_FEATURES, LibraryView, score_library
from startref.citations.query import build_query
from startref.latex.cites import find_cites

REPO = Path(__file__).resolve().parents[2]
BIB_ORDER = [FEATURE_NAMES.index(n) for n in BIB_ORDER_FEATURES]
SMALL = CandidateLimits(enc_context=6, enc_other=3, bm25_context=6, bm25_other=3, per_name=3, neighbours=3)
SENTENCES = [
    "Gamma-ray bursts observed by the INTEGRAL SPI spectrometer were fitted with the Band function \\cite{}.",
    "The Fermi Gamma-ray Burst Monitor \\cite{} triggers on bright transients.",
    "We sample the posterior with nested sampling as implemented in MultiNest \\cite{}.",
    "Following Band et al.~\\cite{} we use a smoothly broken power law.",
]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(EngineConfig(use_generator=False))


def _query(sentence: str, library_index: BibIndex):  # type: ignore[no-untyped-def]
    text = f"\\documentclass{{article}}\\begin{{document}}\n{sentence}\n\\end{{document}}\n"
    cursor = text.index("\\cite{}") + len("\\cite{")
    return build_query(text, cursor, LibraryView(BibIndex([]), library_index), find_cites(text))  # type: ignore[arg-type]


def test_candidates_get_the_features_of_exhaustive_scoring_and_keep_its_best(engine: Engine,
                                                                             train_library: Path) -> None:
    library = open_library([str(train_library)])
    fx = library.features(engine.encoder)
    allowed = np.ones(len(library), bool)
    for sentence in SENTENCES:
        query = _query(sentence, library.index)
        rows, stage = candidate_rows(query, fx, engine.encoder, library.lexicon(engine.encoder), allowed, SMALL)
        assert 0 < rows.size < len(library) and np.all(np.diff(rows) > 0)
        full = compute_features(query, fx, engine.encoder)
        got = candidate_features(query, fx, engine.encoder, rows, stage)
        full[:, BIB_ORDER], got[:, BIB_ORDER] = 0.0, 0.0  # the .bib-order columns are zero for library rows
        np.testing.assert_allclose(got, full[rows], rtol=1e-5, atol=1e-6, err_msg=sentence)
        best = int(np.argmax(engine.ranker.score(full)))
        assert best in set(rows.tolist()), (sentence, library.index.entries[best].title)


def test_names_near_the_cursor_bring_their_entries(engine: Engine, train_library: Path) -> None:
    library = open_library([str(train_library)])
    fx = library.features(engine.encoder)
    band = [i for i, toks in enumerate(fx.author_tokens) if "band" in toks]
    assert band, "the library has Band et al."
    query = _query(SENTENCES[3], library.index)
    rows, _ = candidate_rows(query, fx, engine.encoder, library.lexicon(engine.encoder), np.ones(len(library), bool),
                             CandidateLimits(enc_context=1, enc_other=1, bm25_context=1, bm25_other=1, per_name=10,
                                             neighbours=1))
    assert set(band) <= set(rows.tolist())


def test_score_library_never_proposes_an_excluded_row(engine: Engine, train_library: Path) -> None:
    library = open_library([str(train_library)])
    query = _query(SENTENCES[0], library.index)
    first = score_library(query, library, BibIndex([]), engine.encoder, engine.ranker, 5)
    exclude = np.zeros(len(library), bool)
    exclude[first.positions[0]] = True
    again = score_library(query, library, BibIndex([]), engine.encoder, engine.ranker, 5, exclude=exclude)
    assert first.positions[0] not in set(again.positions.tolist())
    assert list(again.positions[:3]) == [p for p in first.positions if p != first.positions[0]][:3]


def test_reindexing_a_changed_library_embeds_only_the_new_entries(engine: Engine, tmp_path: Path) -> None:
    texts = [e.title for e in open_library([str(REPO / "examples" / "resnet" / "refs.bib")]).index.entries]
    store = VectorStore(tmp_path, "test-encoder")
    reports: list[tuple[int, int]] = []
    first = embed_texts(engine.encoder, texts[:-1], lambda d, n: reports.append((d, n)), store)
    assert reports[0] == (0, len(texts) - 1) and reports[-1] == (len(texts) - 1, len(texts) - 1)
    reports.clear()
    second = embed_texts(engine.encoder, texts, lambda d, n: reports.append((d, n)), store)
    assert reports[0] == (len(texts) - 1, len(texts))  # every earlier text came from the store
    np.testing.assert_allclose(second[:-1], first, atol=1e-6)
    # embedded now (in bf16 where the CPU has it: the same direction as the request path's fp32 vector)
    assert float(second[-1] @ engine.encoder.encode([texts[-1]])[0]) > 0.9999
    # a smaller library indexed later keeps the bigger one's vectors too
    embed_texts(engine.encoder, texts[:2], None, store)
    reports.clear()
    embed_texts(engine.encoder, texts, lambda d, n: reports.append((d, n)), store)
    assert reports[0] == (len(texts), len(texts))


def _cli(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), **env}
    return subprocess.run([sys.executable, "-m", "startref", *args], capture_output=True, text=True, env=full_env,
                          timeout=600)


def test_first_index_says_so_with_a_progress_bar_then_stays_quiet(tmp_path: Path, train_library: Path) -> None:
    tex = tmp_path / "paper.tex"
    (tmp_path / "refs.bib").write_bytes((REPO / "examples" / "resnet" / "refs.bib").read_bytes())
    line = "Gamma-ray bursts seen by the SPI spectrometer \\cite{}."
    tex.write_text(f"\\documentclass{{article}}\\begin{{document}}\n{line}\n\\bibliography{{refs}}\\end{{document}}\n",
                   encoding="utf-8")
    args = ["suggest", str(tex), "--at", f"2:{line.index('{') + 2}", "--library", str(train_library), "--json"]
    first = _cli(args, tmp_path, STARTREF_LIBRARY_CACHE_DIR=str(tmp_path / "lib"), STARTREF_PROGRESS="1")
    assert first.returncode == 0, first.stderr
    assert "indexing your library: embedding" in first.stderr
    assert "indexing library" in first.stderr and "entry/s" in first.stderr  # tqdm's bar, asked for
    assert first.stdout.lstrip().startswith("{")  # the JSON on stdout is untouched
    again = _cli(args, tmp_path, STARTREF_LIBRARY_CACHE_DIR=str(tmp_path / "lib"), STARTREF_PROGRESS="1")
    assert again.returncode == 0 and "indexing" not in again.stderr  # cached: nothing to say
    piped = _cli(args, tmp_path, STARTREF_LIBRARY_CACHE_DIR=str(tmp_path / "lib2"))
    assert "indexing your library" in piped.stderr and "entry/s" not in piped.stderr  # no bar off a terminal


def test_library_rows_are_scored_with_the_papers_gates_by_the_shipped_ranker(engine: Engine,
                                                                             train_library: Path) -> None:
    """``ranker_logits`` must hand the paper's gates to whatever kind ships (the ensemble included): the
    library list's own gates say "nothing cited yet" for every request."""
    from startref.citations.library.pool import ranker_logits
    from startref.citations.ranker import query_gates

    library = open_library([str(train_library)])
    fx = library.features(engine.encoder)
    feats = compute_features(_query(SENTENCES[0], library.index), fx, engine.encoder)
    own = query_gates(feats)
    paper = own.copy()
    paper[:] = np.linspace(0.2, 0.9, paper.size, dtype=own.dtype)  # a document with history: other gates
    with_paper = ranker_logits(engine.ranker, feats, paper)
    np.testing.assert_allclose(with_paper, engine.ranker.score(feats, paper), rtol=1e-6)
    assert not np.allclose(with_paper, engine.ranker.score(feats)), type(engine.ranker).__name__
