"""Ranking features on small hand-made bibliographies: each signal does what its name says."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from startref.citations.bibindex import parse_bib_text
from startref.citations.engine import Engine
from startref.citations.features import FEATURE_NAMES, compute_features, index_features
from startref.citations.query import build_query
from startref.latex.cites import find_cites

BIB = "\n".join(
    f"@article{{k{i}, title={{{title}}}, author={{{author}}}, year={{{year}}}}}"
    for i, (title, author, year) in enumerate(
        [
            ("Deep Residual Learning for Image Recognition", "He, Kaiming", 2016),
            ("Attention Is All You Need", "Vaswani, Ashish", 2017),
            ("Soil Bacteria of Alpine Meadows", "Moss, Anna", 2001),
            ("Gradient-Based Learning Applied to Document Recognition", "LeCun, Yann", 1998),
            ("Dropout: A Simple Way to Prevent Overfitting", "Srivastava, Nitish", 2014),
        ]
    )
)


def _features(engine: Engine, text: str) -> tuple[np.ndarray, list[str]]:
    index = parse_bib_text(BIB)
    fx = index_features(index, engine.encoder)
    query = build_query(text, len(text), index, find_cites(text))
    return compute_features(query, fx, engine.encoder), fx.keys


def col(feats: np.ndarray, name: str) -> np.ndarray:
    return feats[:, FEATURE_NAMES.index(name)]


def test_text_similarity_features_prefer_the_matching_title(engine: Engine) -> None:
    feats, keys = _features(engine, "Transformers rely entirely on attention mechanisms ")
    assert keys[int(np.argmax(col(feats, "enc_sim")))] == "k1"
    assert keys[int(np.argmax(col(feats, "bm25")))] == "k1"


def test_recitation_and_author_features(engine: Engine) -> None:
    text = "Residual nets \\cite{k0} and soil \\cite{k2} and again \\cite{k0}. As shown by LeCun et al. "
    feats, keys = _features(engine, text)
    assert col(feats, "cited").tolist() == [1, 0, 1, 0, 0]
    assert np.isclose(col(feats, "cited_log_count")[0], np.log1p(2))
    assert col(feats, "cited_recency")[0] == 1.0 and col(feats, "cited_recency")[2] == 0.5
    assert col(feats, "author_near").tolist() == [0, 0, 0, 1, 0]
    # The first uncited entry after the most recently introduced one (k2) in .bib order is k3.
    assert col(feats, "bib_next").tolist() == [0, 0, 0, 1, 0]


def test_cocitation_counts_entries_cited_together_before(engine: Engine) -> None:
    # The last three commands cite k3, k1, k0; k4 was cited together with k0 before, k2 alone.
    text = "A \\cite{k0,k4} then \\cite{k2} and \\cite{k3} then B \\cite{k1} then \\cite{k0} now "
    feats, _ = _features(engine, text)
    assert col(feats, "cocite")[4] > 0 and col(feats, "cocite")[2] == 0


def test_bib_neighbourhood_rhythm_and_et_al(engine: Engine) -> None:
    # Cites so far: k0 (new), k0 (again), k0 (again) -> one of the last three introduced a new entry.
    text = "Residual \\cite{k0} here \\cite{k0} and \\cite{k0}. As shown by He et al. "
    feats, keys = _features(engine, text)
    # .bib neighbours of k0 (position 0): k1 at distance 1 scores 1, k2 less, k0 itself 0.
    local = col(feats, "bib_local")
    assert local[1] == 1.0 and 0 < local[2] < 1.0 and local[0] == 0.0
    assert np.allclose(col(feats, "query_new_rate"), 1 / 3)
    assert np.allclose(col(feats, "query_cite_density"), np.log1p(3))
    assert np.all(col(feats, "query_etal") == 1.0)
    assert col(feats, "author_recent").tolist() == [0, 0, 0, 0, 0]  # k0 cited alone: no other entry's author


def test_words_around_earlier_citations_count_for_that_entry_only(engine: Engine) -> None:
    # Windows reach 300 characters before a cite and 120 after it: filler keeps them apart.
    filler = "Unrelated prose about the weather and trains fills this paragraph. " * 8
    text = (f"The alpine meadow soil microbes were sampled \\cite{{k2}}. {filler}Residual networks \\cite{{k0}}. "
            f"{filler}Later we sampled alpine meadow soil microbes again ")
    feats, keys = _features(engine, text)
    lex = col(feats, "hist_lex")
    assert lex[2] > lex[0]
    assert lex[1] == lex[3] == lex[4] == 0  # never cited: no earlier words
    words = col(feats, "hist_words")
    assert words[2] > words[0]  # "alpine meadow soil microbes" stood around k2's citation, only filler around k0's


def test_section_features_scope_earlier_citations_and_read_the_heading(engine: Engine) -> None:
    text = ("\\section{Introduction}\nResidual \\cite{k0} and soil \\cite{k2}.\n\n"
            "\\section{Experimental results}\nWe train as in \\cite{k1}.\n\n"
            "\\subsection{Ablation}\nDropout \\cite{k4}.\n\nAgain \\cite{k3} and now ")
    feats, keys = _features(engine, text)
    assert col(feats, "cited_in_section").tolist() == [0, 1, 0, 1, 1]
    assert col(feats, "cited_in_subsection").tolist() == [0, 0, 0, 1, 1]
    assert col(feats, "cited_in_paragraph").tolist() == [0, 0, 0, 1, 0]
    assert np.allclose(col(feats, "query_section_cites"), np.log1p(3))
    assert np.all(col(feats, "query_section_results") == 1.0)
    assert np.all(col(feats, "query_section_intro") == 0.0)
    # "Ablation" and "Experimental results" share no word with a title; "Dropout" would.
    assert np.all(col(feats, "bm25_heading") == 0.0)
    dropout, _ = _features(engine, "\\section{Why dropout helps}\nIt prevents overfitting ")
    assert keys[int(np.argmax(col(dropout, "bm25_heading")))] == "k4"


def _ablation_steps(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[str, ...]]]:
    spec = importlib.util.spec_from_file_location("bench_ranking", repo_root / "bench" / "ranking.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_ranking", module)  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.ABLATION_STEPS


def test_the_ablation_groups_name_every_feature_once(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # bench/ranking.py --ablation adds the signals group by group; a feature missing there would be measured nowhere
    named = [name for _, names in _ablation_steps(repo_root, monkeypatch) for name in names]
    assert sorted(named) == sorted(FEATURE_NAMES)


def test_a_subset_of_columns_is_computed_alone_and_matches_the_full_matrix(
    engine: Engine, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The ablation bench times each signal set by computing only its columns: they must be the very same numbers,
    # and a set without encoder features must not call the encoder at all.
    text = ("\\section{Introduction}\nResidual nets \\cite{k0} and soil \\cite{k2}; dropout \\cite{k4,k0}.\n\n"
            "As shown by LeCun et al. in 1998 for document recognition ")
    index = parse_bib_text(BIB)
    fx = index_features(index, engine.encoder)
    query = build_query(text, len(text), index, find_cites(text))
    full = compute_features(query, fx, engine.encoder)
    calls: list[int] = []
    real_encode = engine.encoder.encode
    monkeypatch.setattr(engine.encoder, "encode", lambda texts: calls.append(len(texts)) or real_encode(texts))
    for _, names in _ablation_steps(repo_root, monkeypatch):
        calls.clear()
        part = compute_features(query, fx, engine.encoder, only=names)
        inside = np.array([name in names for name in FEATURE_NAMES])
        assert np.array_equal(part[:, inside], full[:, inside]), names
        assert not part[:, ~inside].any(), names
        assert bool(calls) == any(name.startswith("enc_") for name in names), names
    with pytest.raises(ValueError, match="no_such_feature"):
        compute_features(query, fx, engine.encoder, only=["bm25", "no_such_feature"])


def test_an_implausible_year_counts_as_missing_not_as_year_18(engine: Engine) -> None:
    """``year = {18}`` once made ``year_recent`` -19.3 and put that entry first for almost every library query."""
    index = parse_bib_text("@article{odd, title={A}, year={18}}\n@article{ok, title={B}, year={2018}}\n"
                           "@article{none, title={C}}\n")
    fx = index_features(index, engine.encoder)
    recent = dict(zip(fx.keys, fx.year_recent.tolist()))
    assert recent["odd"] == recent["none"] == 0.0
    assert abs(recent["ok"] - 0.68) < 1e-6
    assert dict(zip(fx.keys, fx.years)) == {"odd": "", "ok": "2018", "none": ""}
