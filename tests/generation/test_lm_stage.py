"""The engine's LM stage end to end with a tiny Galactica-style model: generation, resolution, re-ranking.

The tiny model was trained to write "Deep Residual Learning, He" after "...we use residual connections
[START_REF]" — so free generation must resolve to the entry with that title, and a generation that matches no
entry must come back as unresolved, never as a key.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from startref.citations.engine import Engine, EngineConfig

BIB = """
@inproceedings{he2016, title={Deep Residual Learning}, author={He, Kaiming}, year={2016}}
@inproceedings{vaswani2017, title={Attention Is All You Need}, author={Vaswani, Ashish}, year={2017}}
@article{moss2001, title={Soil Bacteria of Alpine Meadows}, author={Moss, Anna}, year={2001}}
"""
CONTEXT = "Deep networks are hard to train, so we use residual connections "


def _engine(model: Path, mode: str) -> Engine:
    return Engine(EngineConfig(generator=str(model), use_generator=True, lm_mode=mode, lm_weight=5.0))


@pytest.mark.parametrize("mode", ["score", "constrained", "free"])
def test_lm_stage_keeps_every_key_real(tiny_galactica: Path, mode: str) -> None:
    result = _engine(tiny_galactica, mode).suggest(CONTEXT, len(CONTEXT), bib_text=BIB, k=3)
    assert {c.key for c in result.candidates} == {"he2016", "vaswani2017", "moss2001"}
    assert result.candidates[0].key == "he2016"
    assert result.model["generator"] is not None


def test_free_generation_resolves_to_the_entry_and_reports_the_text(tiny_galactica: Path) -> None:
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


def test_constrained_generation_names_the_entry(tiny_galactica: Path) -> None:
    result = _engine(tiny_galactica, "constrained").suggest(CONTEXT, len(CONTEXT), bib_text=BIB, k=3)
    assert result.candidates[0].generated is not None
    assert result.candidates[0].generated.startswith("Deep Residual Learning")
    assert result.unresolved == []
