"""The cite vocabulary and user-wrapper detection (``latex/commands.py``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from startref.latex.cites import find_cites
from startref.latex.commands import DEFAULT_CITE_SYNTAX, CiteSyntax, syntax_with_user_wrappers
from startref.latex.source import read_tex

LISTED = (
    "cite citep citet citealp citealt citeauthor citeyear citeyearpar parencite textcite autocite footcite "
    "smartcite supercite citenum Cite Citep Citet Parencite Textcite Autocite Footcite Smartcite Citeauthor "
    "Citealp Citealt"
).split()
MULTI = "cites parencites textcites autocites footcites smartcites supercites".split()


def test_default_syntax_lists_every_key_taking_command() -> None:
    for name in LISTED:
        assert name in DEFAULT_CITE_SYNTAX.commands, name
    for name in MULTI:
        assert name in DEFAULT_CITE_SYNTAX.multicite, name
    assert "nocite" not in DEFAULT_CITE_SYNTAX.all_names()
    assert not any(n.endswith("*") or n.startswith("\\") for n in DEFAULT_CITE_SYNTAX.all_names())


def test_pattern_matches_whole_names_only() -> None:
    pat = DEFAULT_CITE_SYNTAX.pattern
    assert [m.group(1) for m in pat.finditer(r"\cite{a} \citep*{b} \citation \nocite{c} \Textcite{d}")] == [
        "cite",
        "citep",
        "Textcite",
    ]


DEFINITIONS = {
    r"\newcommand{\mycite}[1]{\cite{#1}}": ("mycite", (1, 1), "m"),
    r"\newcommand\mycite[2][]{\citep[#1]{#2}}": ("mycite", (2, 2), "om"),
    r"\newcommand*{\mycite}[2]{see~\citet{#2} on #1}": ("mycite", (2, 2), "mm"),
    r"\renewcommand{\mycite}[1]{\citep{#1}}": ("mycite", (1, 1), "m"),
    r"\providecommand\mycite[1]{\citet*{#1}}": ("mycite", (1, 1), "m"),
    r"\DeclareRobustCommand{\mycite}[1]{\parencite{#1}}": ("mycite", (1, 1), "m"),
    r"\def\mycite#1{\cite{#1}}": ("mycite", (1, 1), "m"),
    r"\NewDocumentCommand{\mycite}{m}{\cite{#1}}": ("mycite", (1, 1), "m"),
    r"\NewDocumentCommand\mycite{s o m}{\cite[#2]{#3}}": ("mycite", (3, 3), "som"),
}


@pytest.mark.parametrize("definition", list(DEFINITIONS))
def test_wrapper_definitions_are_recognised(definition: str) -> None:
    name, spec, signature = DEFINITIONS[definition]
    syntax = syntax_with_user_wrappers(definition + "\n")
    assert dict(syntax.wrappers) == {name: spec}
    assert syntax.signature(name) == signature
    assert syntax.commands == DEFAULT_CITE_SYNTAX.commands


def test_wrappers_are_found_by_find_cites_with_their_keys() -> None:
    text = (
        "\\newcommand\\mycite[2][]{\\citep[#1]{#2}}\n"
        "\\newcommand{\\two}[2]{#1 \\cite{#2}}\n"
        "\\def\\dc#1{\\cite{#1}}\n"
        "Body \\mycite[p.~3]{a,b} and \\mycite{c} and \\two{Smith}{d:1} and \\dc{e_2}.\n"
    )
    syntax = syntax_with_user_wrappers(text)
    body = text.index("Body")
    cites = [c for c in find_cites(text, syntax) if c.start > body]
    assert [(c.command, c.keys) for c in cites] == [
        ("mycite", ("a", "b")),
        ("mycite", ("c",)),
        ("two", ("d:1",)),
        ("dc", ("e_2",)),
    ]
    assert cites[0].optional_args == ("p.~3",)


def test_wrapper_of_a_wrapper_and_non_cite_macros() -> None:
    text = (
        "\\newcommand{\\inner}[1]{\\citep{#1}}\n"
        "\\newcommand{\\outer}[1]{\\inner{#1}}\n"
        "\\newcommand{\\bold}[1]{\\textbf{#1}}\n"
        "\\newcommand{\\fixed}{\\cite{always}}\n"
        "% \\newcommand{\\hidden}[1]{\\cite{#1}}\n"
    )
    syntax = syntax_with_user_wrappers(text)
    assert set(syntax.wrappers) == {"inner", "outer"}


def test_redefining_a_known_command_keeps_it_a_plain_command() -> None:
    syntax = syntax_with_user_wrappers("\\renewcommand{\\cite}[1]{\\citep{#1}}\n")
    assert dict(syntax.wrappers) == {}
    assert syntax is DEFAULT_CITE_SYNTAX or syntax == DEFAULT_CITE_SYNTAX


def test_syntax_is_hashable_and_comparable() -> None:
    a = syntax_with_user_wrappers("\\newcommand{\\mycite}[1]{\\cite{#1}}")
    b = syntax_with_user_wrappers("\\newcommand{\\mycite}[1]{\\cite{#1}}")
    assert a == b and hash(a) == hash(b)
    assert a != DEFAULT_CITE_SYNTAX
    assert CiteSyntax(commands=frozenset({"cite"})).is_cite("cite")


def test_bench_papers_define_no_spurious_wrappers(bench_papers: Path) -> None:
    """The 20 real papers use plain natbib/biblatex commands; a false wrapper would invent cites."""
    for paper in sorted(bench_papers.iterdir()):
        main = re.search(r"^main_tex: (.*)$", (paper / "SOURCE.txt").read_text(), re.M)
        assert main, paper
        text = read_tex(paper / main.group(1).strip()).text
        assert dict(syntax_with_user_wrappers(text).wrappers) == {}, paper.name
