"""Near keys (the entries a writer confuses with a cited one) and the order of the replacements they give."""

from __future__ import annotations

from startref.citations.audit.miscitation import FEATURES, NEAR_PREFERENCE, suggested_keys, suspicion_inputs
from startref.citations.audit.nearkeys import NearKeys
from startref.citations.bibindex import parse_bib_text

BIB = """
@article{smith2019a, author = {Smith, Jane and Roe, R.}, title = {Graph kernels}, year = {2019}}
@article{smith2019b, author = {Smith, Jane}, title = {Spectral clustering of graphs}, year = {2019}}
@article{Smith2020, author = {Smith, John}, title = {Ocean currents}, year = {2020}}
@article{doe2018, author = {Doe, A.}, title = {Protein folding}, year = {2018}}
@article{lee2017deep, author = {Lee, K.}, title = {Deep nets}, year = {2017}}
"""


def test_near_keys_share_the_first_author_or_a_similar_key() -> None:
    near = NearKeys(parse_bib_text(BIB))
    assert near.of("smith2019a") == {"smith2019b", "Smith2020"}  # same first author (J. Smith both) and a similar key
    assert near.of("doe2018") == frozenset()
    assert "lee2017deep" not in near.of("smith2019a")
    assert near.of("smith2019a") is near.of("smith2019a")  # computed once per key


def test_a_near_key_nearly_as_good_as_the_best_is_suggested_first() -> None:
    best = NEAR_PREFERENCE + 3.0
    assert suggested_keys("doe2018", best, "smith2019b", best - NEAR_PREFERENCE) == ["smith2019b", "doe2018"]
    assert suggested_keys("doe2018", best, "smith2019b", best - NEAR_PREFERENCE - 0.5) == ["doe2018", "smith2019b"]
    assert suggested_keys("doe2018", 5.0, "smith2019b", -1.0) == ["doe2018"]  # a near key below the cited one
    assert suggested_keys("smith2019b", 5.0, "smith2019b", 5.0) == ["smith2019b"]
    assert suggested_keys("doe2018", 5.0, None, float("-inf")) == ["doe2018"]


def test_the_near_input_says_whether_a_near_key_beats_the_cited_one() -> None:
    x = suspicion_inputs([3.0, 1.0, 2.0], [5, 2, 3], [10, 10, 10], [False, True, False], [2.5, -1.0, float("-inf")])
    assert x.shape == (3, len(FEATURES))
    assert list(x[:, FEATURES.index("near_above")]) == [1.0, 0.0, 0.0]
