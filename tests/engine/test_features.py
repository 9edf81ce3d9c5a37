"""Ranking features on small hand-made bibliographies: each signal does what its name says."""

from __future__ import annotations

import numpy as np

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
