"""Engine.suggest end to end on the bundled example and on real dev papers."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from startref.citations.bibindex import load_bibliography
from startref.citations.engine import Engine
from startref.citations.errors import BibliographyError
from startref.latex.cites import find_cites
from startref.latex.errors import LatexInputError
from startref.latex.position import offset_from_line_col


def _example(example_dir: Path) -> tuple[Path, str]:
    tex = example_dir / "paper.tex"
    return tex, tex.read_text(encoding="utf-8")


def test_example_placeholder_gets_a_residual_network_paper(engine: Engine, example_dir: Path) -> None:
    tex, text = _example(example_dir)
    cursor = offset_from_line_col(text, 13, 98)  # on the "?" of \citep{?}
    result = engine.suggest(text, cursor, path=tex, k=5)
    keys = [c.key for c in result.candidates]
    assert len(keys) == 5 and len(set(keys)) == 5
    assert {"he2016deep", "he2016identity"} & set(keys[:2]), keys
    # Inside \citep{?}: the edit replaces the typed "?" with the key, nothing else.
    assert result.insert is not None
    assert text[result.insert.start : result.insert.end] == "?"
    assert result.insert.text == keys[0]
    assert result.bibliography.entries == 16
    assert all(0.0 <= c.score <= 1.0 for c in result.candidates)
    assert result.candidates[0].why  # a reason is given for the top pick


def test_cursor_outside_a_cite_inserts_the_documents_dominant_command(engine: Engine, example_dir: Path) -> None:
    tex, text = _example(example_dir)
    cursor = text.index("complete the setup") - 1
    result = engine.suggest(text, cursor, path=tex)
    assert result.insert is not None and result.insert.start == result.insert.end == cursor
    assert result.insert.text == f"\\citep{{{result.candidates[0].key}}}"


def test_inside_an_existing_cite_adds_a_key_and_never_repeats_one(engine: Engine, example_dir: Path) -> None:
    tex, text = _example(example_dir)
    anchor = "\\citep{simonyan2015very, szegedy2015going}"
    cursor = text.index(anchor) + len(anchor) - 1  # just before the closing brace
    result = engine.suggest(text, cursor, path=tex, k=10)
    keys = [c.key for c in result.candidates]
    assert "simonyan2015very" not in keys and "szegedy2015going" not in keys
    assert result.insert is not None and result.insert.text.startswith(",")
    assert result.insert.text.strip(", ") == keys[0]


def test_bib_text_inline_and_k(engine: Engine) -> None:
    bib = "@article{a1, title={Deep Residual Learning for Image Recognition}, author={He, K.}, year={2016}}\n" \
          "@article{b2, title={A Study of Soil Bacteria in Alpine Meadows}, author={Moss, A.}, year={2001}}\n"
    text = "We train a very deep residual network for image recognition "
    result = engine.suggest(text, len(text), bib_text=bib, k=1)
    assert [c.key for c in result.candidates] == ["a1"]
    assert result.insert is not None and result.insert.text == "\\cite{a1}"


def test_every_key_exists_on_real_papers(engine: Engine, bench_papers: Path) -> None:
    rng = random.Random(7)
    for paper in ["lh3__minimap2", "dfm__celerite", "econ-ark__HAFiscal-Public"]:
        folder = bench_papers / paper
        source = (folder / "SOURCE.txt").read_text()
        main = next(l.split(":", 1)[1].strip() for l in source.splitlines() if l.startswith("main_tex:"))
        tex = folder / main
        text = tex.read_text(encoding="utf-8", errors="replace")
        index = engine.bibliography_for(path=tex, text=text)
        for cursor in rng.sample(range(len(text)), 5):
            result = engine.suggest(text, cursor, path=tex, k=8)
            assert result.candidates, paper
            assert all(index.get(c.key) is not None for c in result.candidates)


def test_cursor_out_of_range_has_a_code(engine: Engine, example_dir: Path) -> None:
    tex, text = _example(example_dir)
    with pytest.raises(LatexInputError) as err:
        engine.suggest(text, len(text) + 1, path=tex)
    assert err.value.code == "cursor_out_of_range"


def test_missing_and_empty_bibliographies_have_codes(engine: Engine, tmp_path: Path) -> None:
    tex = tmp_path / "p.tex"
    tex.write_text("Hello \\cite{x} world.\n\\bibliography{nothere}\n")
    with pytest.raises(BibliographyError) as err:
        engine.suggest(tex.read_text(), 6, path=tex)
    assert err.value.code == "bibliography_not_found" and "nothere" in str(err.value)
    empty = tmp_path / "empty.bib"
    empty.write_text("% nothing here\n")
    with pytest.raises(BibliographyError) as err:
        engine.suggest("text", 4, bib=[empty])
    assert err.value.code == "bibliography_empty"


def test_annotate_fills_placeholders_and_is_idempotent(engine: Engine, example_dir: Path) -> None:
    tex, text = _example(example_dir)
    result = engine.annotate(text, path=tex)
    assert [e.old for e in result.edits] == ["\\citep{?}", "[CITATION]"]
    new = result.text
    # Byte-identical outside the edits.
    first, second = result.edits
    assert new.startswith(text[: first.start])
    assert new.endswith(text[second.end :])
    assert first.new.startswith("\\citep{") and second.new.startswith("\\citep{")  # the document's dominant command
    keys = {k for c in find_cites(new) for k in c.keys}
    index = load_bibliography([example_dir / "refs.bib"])
    assert all(index.get(k) is not None for k in keys)
    again = engine.annotate(new, path=tex)
    assert again.edits == [] and again.text == new


def test_annotate_keep_k_writes_a_comment_at_line_end(engine: Engine, example_dir: Path) -> None:
    tex, text = _example(example_dir)
    result = engine.annotate(text, path=tex, keep_k=3)
    line = next(l for l in result.text.splitlines() if "% startref:" in l and "residual connections" in l)
    comment = line.split("% startref:", 1)[1]
    assert comment.count("(") == 3  # three keys with their scores
    assert line.index("% startref:") > line.index("\\citep{")  # never comments out the citation itself
