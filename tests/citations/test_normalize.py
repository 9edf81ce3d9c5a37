"""Normalisation: the index and the resolver depend on these agreeing, so each form is pinned here."""

from __future__ import annotations

import pytest

from startref.citations.normalize import (
    find_arxiv_id,
    find_doi,
    first_author_last_name,
    last_names,
    latex_to_unicode,
    normalize_key,
    normalize_title,
    normalize_url,
)


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"{\"u}ber", "über"),
        (r"\'{e}t\'e", "été"),
        (r"{\o}resund", "øresund"),
        (r"1990--2000", "1990\u20132000"),
        (r"On {BERT} and {GPT}", "On BERT and GPT"),
        (r"\textit{in vivo} study", "in vivo study"),
        (r"$\alpha$-decay", "α-decay"),
        (r"Smith \& Wesson, 50\% off", "Smith & Wesson, 50% off"),
        (r"\v{C}ech and G\"odel", "Čech and Gödel"),
        ("plain\n  text", "plain text"),
    ],
)
def test_latex_to_unicode(latex: str, text: str) -> None:
    assert latex_to_unicode(latex) == text


@pytest.mark.parametrize("junk", [r"\foo{", r"{{{", r"$\frac{", "\\", r"\begin{x}"])
def test_latex_to_unicode_never_raises(junk: str) -> None:
    assert isinstance(latex_to_unicode(junk), str)


def test_normalize_title_makes_accent_forms_equal() -> None:
    forms = [r"{\"U}ber {BERT}: a Study", "Über BERT: a study", "Uber BERT -- a study!"]
    assert {normalize_title(f) for f in forms} == {"uber bert a study"}


def test_normalize_key() -> None:
    assert normalize_key("  Vaswani2017Attention ") == normalize_key("vaswani2017attention")


def test_last_names() -> None:
    field = r"M{\"u}ller, Hans and Ludwig van Beethoven and {NASA Collaboration} and Smith, Jr., John and others"
    assert last_names(field) == ["Müller", "van Beethoven", "NASA Collaboration", "Smith"]
    assert first_author_last_name("Vaswani, Ashish and Shazeer, Noam") == "Vaswani"
    assert first_author_last_name("") == ""


@pytest.mark.parametrize(
    ("text", "arxiv"),
    [
        ("1706.03762", "1706.03762"),
        ("1706.03762v2", "1706.03762"),
        ("arXiv:1706.03762", "1706.03762"),
        ("https://arxiv.org/abs/1706.03762v5", "1706.03762"),
        ("https://arxiv.org/pdf/hep-th/9901001v1", "hep-th/9901001"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("10.48550/arXiv.2101.00001", "2101.00001"),
        ("version 1.2.3", ""),
    ],
)
def test_find_arxiv_id(text: str, arxiv: str) -> None:
    assert find_arxiv_id(text) == arxiv


def test_find_doi_and_url() -> None:
    assert find_doi("see https://doi.org/10.1038/NATURE14539.") == "10.1038/nature14539"
    assert find_doi("doi:10.1103/PhysRevLett.116.061102") == "10.1103/physrevlett.116.061102"
    assert find_doi("no identifier here") == ""
    assert normalize_url("https://www.Example.com/a/") == normalize_url("http://example.com/a")
