"""The engine's LM stage end to end with a tiny Galactica-style model: generation, resolution, re-ranking.

The tiny model was trained to write "Deep Residual Learning, He" after "...we use residual connections
[START_REF]" — so free generation must resolve to the entry with that title, and a generation that matches no
entry must come back as unresolved, never as a key.

Why a decoy entry: the bibliography also holds a title that repeats the sentence's own words, so retrieval alone
ranks the decoy first (checked by ``retrieval_top``). Every test that expects ``he2016`` on top therefore fails
if the LM's scores are ignored; ``test_combined_logits_follow_the_documented_formula`` pins the combination
itself (ranker logit + weight x z-scored LM log-likelihood, +1 for an entry the LM wrote).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from startref.citations.engine import Engine, EngineConfig
from startref.citations.lmstage import lm_prompt
from startref.citations.query import build_query

BIB = """
@inproceedings{he2016, title={Deep Residual Learning}, author={He, Kaiming}, year={2016}}
@article{ray2019, title={Why Deep Networks Are Hard to Train: Residual Connections Explained}, author={Ray, C.}, year={2019}}
@inproceedings{vaswani2017, title={Attention Is All You Need}, author={Vaswani, Ashish}, year={2017}}
@article{moss2001, title={Soil Bacteria of Alpine Meadows}, author={Moss, Anna}, year={2001}}
"""
KEYS = {"he2016", "ray2019", "vaswani2017", "moss2001"}
DECOY = "ray2019"
CONTEXT = "Deep networks are hard to train, so we use residual connections "
WEIGHT = 5.0


def _engine(model: Path, mode: str) -> Engine:
    return Engine(EngineConfig(generator=str(model), use_generator=True, lm_mode=mode, lm_weight=WEIGHT))


@pytest.fixture(scope="module")
def retrieval_top() -> str:
    """Retrieval alone (no LM) ranks the decoy first, with a clear margin: the LM has something to overturn."""
    result = Engine(EngineConfig(use_generator=False)).suggest(CONTEXT, len(CONTEXT), bib_text=BIB, k=4)
    top, second = result.candidates[:2]
    assert top.key == DECOY and second.key == "he2016" and top.score > 0.8, (
        f"retrieval now ranks {[(c.key, c.score) for c in result.candidates]}: pick a decoy it prefers again")
    return top.key


@pytest.mark.parametrize("mode", ["score", "constrained", "free"])
def test_the_lm_overturns_retrieval_and_keeps_every_key_real(tiny_galactica: Path, mode: str,
                                                             retrieval_top: str) -> None:
    result = _engine(tiny_galactica, mode).suggest(CONTEXT, len(CONTEXT), bib_text=BIB, k=4)
    assert {c.key for c in result.candidates} == KEYS
    assert result.candidates[0].key == "he2016" != retrieval_top
    assert result.model["generator"] is not None


@pytest.mark.parametrize("mode", ["score", "free"])
def test_combined_logits_follow_the_documented_formula(tiny_galactica: Path, mode: str) -> None:
    engine = _engine(tiny_galactica, mode)
    index = engine.bibliography_for(bib_text=BIB)
    cursor = len(CONTEXT)
    retrieval = engine.rank(build_query(CONTEXT, cursor, index, []), index)  # the ranker alone, as suggest runs it
    combined, _ = engine.with_generation(CONTEXT, cursor, retrieval, index, k=4)
    lm = np.array(engine.generator.score(lm_prompt(CONTEXT, cursor, index),
                                         [f"{r.entry.title}, {r.entry.first_author}" for r in retrieval]))
    evidence = (lm - lm.mean()) / lm.std()
    if mode == "free":  # the LM's own generation resolves to he2016: one more unit of evidence for it
        evidence += [r.entry.key == "he2016" for r in retrieval]
    expected = {r.entry.key: r.logit + WEIGHT * e for r, e in zip(retrieval, evidence)}
    assert {r.entry.key: r.logit for r in combined} == pytest.approx(expected, abs=1e-6)
    assert [r.entry.key for r in combined] == sorted(expected, key=lambda key: -expected[key])
    assert sum(r.prob for r in combined) == pytest.approx(sum(r.prob for r in retrieval))


def test_free_generation_resolves_to_the_entry_and_reports_the_text(tiny_galactica: Path, retrieval_top: str) -> None:
    result = _engine(tiny_galactica, "free").suggest(CONTEXT, len(CONTEXT), bib_text=BIB, k=3)
    top = result.candidates[0]
    assert top.key == "he2016"
    assert top.generated is not None and "Deep Residual Learning" in top.generated
    assert "[START_REF]" not in top.generated and "[END_REF]" not in top.generated
    assert result.unresolved == []


def test_generation_missing_from_the_bibliography_is_unresolved(tiny_galactica: Path) -> None:
    bib = "@article{moss2001, title={Soil Bacteria of Alpine Meadows}, author={Moss, Anna}}\n" \
          "@article{x, title={Cosmic Ray Showers}, author={Ray, C.}}"
    result = _engine(tiny_galactica, "free").suggest(CONTEXT, len(CONTEXT), bib_text=bib, k=2)
    assert [c.key for c in result.candidates if c.key not in {"moss2001", "x"}] == []
    assert result.unresolved and "Deep Residual Learning" in result.unresolved[0]


def test_constrained_generation_names_the_entry(tiny_galactica: Path, retrieval_top: str) -> None:
    result = _engine(tiny_galactica, "constrained").suggest(CONTEXT, len(CONTEXT), bib_text=BIB, k=3)
    assert result.candidates[0].key == "he2016"
    assert result.candidates[0].generated is not None
    assert result.candidates[0].generated.startswith("Deep Residual Learning")
    assert result.unresolved == []
