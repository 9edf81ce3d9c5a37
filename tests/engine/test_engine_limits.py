"""The engine's per-request limits (issue #11): a deadline between stages, a placeholder cap, text checks."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from startref.citations.engine import Engine
from startref.citations.errors import DeadlineExceeded
from startref.filerules import FileRules
from startref.latex.errors import LatexInputError

SENTENCE = "Residual connections make very deep networks trainable~\\cite{?}.\n"


def test_a_past_deadline_stops_suggest_between_stages(engine: Engine, example_dir: Path) -> None:
    bib = [example_dir / "refs.bib"]
    with pytest.raises(DeadlineExceeded) as info:
        engine.suggest(SENTENCE, 50, bib=bib, deadline=time.monotonic() - 1)
    assert info.value.code == "deadline_exceeded"
    assert engine.suggest(SENTENCE, 50, bib=bib, deadline=time.monotonic() + 60).candidates


def test_annotate_caps_placeholders_and_always_makes_progress(engine: Engine, example_dir: Path) -> None:
    bib = [example_dir / "refs.bib"]
    text = SENTENCE * 5
    capped = engine.annotate(text, bib=bib, max_placeholders=2)
    assert len(capped.edits) == 2 and "5 placeholders" in capped.warnings[0]
    late = engine.annotate(text, bib=bib, deadline=time.monotonic() - 1)
    assert len(late.edits) == 1 and "4 placeholders left" in late.warnings[0]
    again = engine.annotate(late.text, bib=bib)
    assert len(again.edits) == 4 and not again.warnings  # the rest, on the second call


def test_text_with_nul_or_lone_surrogate_is_refused_with_its_line(engine: Engine, example_dir: Path) -> None:
    bib = [example_dir / "refs.bib"]
    for bad, code in (("x\x00y", "binary_input"), ("x\ud800y", "invalid_request")):
        with pytest.raises(LatexInputError) as info:
            engine.suggest(SENTENCE + bad, 5, bib=bib)
        assert info.value.code == code and info.value.line == 2


def test_per_call_file_rules_apply_to_discovery(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "refs.txt").write_text("@misc{leak, title = {Should never be read}}\n")
    text = "\\bibliography{refs.txt}\n" + SENTENCE
    assert engine.bibliography_for(path=tmp_path / "p.tex", text=text).keys() == ["leak"]  # the CLI: allowed
    with pytest.raises(Exception) as info:
        engine.bibliography_for(path=tmp_path / "p.tex", text=text, file_rules=FileRules.server(1 << 20))
    assert getattr(info.value, "code", "") == "bibliography_not_found"
