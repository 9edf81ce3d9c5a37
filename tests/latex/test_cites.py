import csv
import time
from pathlib import Path

import pytest

from startref.latex.cites import comment_spans, find_cites, ignored_spans, strip_cites
from startref.latex.commands import DEFAULT_CITE_SYNTAX, syntax_with_user_wrappers
from startref.latex.flatten import flatten_document

SINGLE = (
    "cite citep citet citealp citealt citeauthor citeyear citeyearpar parencite textcite autocite footcite "
    "smartcite supercite citenum Cite Citep Citet Parencite Textcite Autocite Footcite Smartcite Citeauthor "
    "Citealp Citealt"
).split()
MULTI = "cites parencites textcites autocites footcites smartcites supercites".split()


def one(text: str, **kw):
    cites = find_cites(text, **kw)
    assert len(cites) == 1, cites
    return cites[0]


@pytest.mark.parametrize("name", SINGLE)
def test_every_default_command_plain_and_starred(name: str) -> None:
    text = f"As shown \\{name}{{a, b}} and \\{name}*{{c}}."
    plain, starred = find_cites(text)
    assert (plain.command, plain.starred, plain.keys) == (name, False, ("a", "b"))
    assert (starred.command, starred.starred, starred.keys) == (name, True, ("c",))
    assert text[plain.start : plain.end] == f"\\{name}{{a, b}}"
    assert text[starred.start : starred.end] == f"\\{name}*{{c}}"


@pytest.mark.parametrize("name", MULTI)
def test_every_multicite(name: str) -> None:
    text = f"x \\{name}[a][b]{{k1}}[c]{{k2,k3}} y"
    cite = one(text)
    assert cite.command == name and cite.keys == ("k1", "k2", "k3")
    assert cite.optional_args == ("a", "b", "c")
    assert [text[s:e] for s, e in cite.groups] == ["k1", "k2,k3"]
    assert text[cite.start : cite.end] == f"\\{name}[a][b]{{k1}}[c]{{k2,k3}}"


def test_multicite_with_global_pre_post_notes() -> None:
    cite = one(r"\textcites(see)(and more)[p.~1]{a}{b} after")
    assert cite.keys == ("a", "b") and cite.optional_args == ("see", "and more", "p.~1")


def test_optional_args_with_nesting_and_spans() -> None:
    text = "see \\citep[see {the [odd] one}][p.~3, \\S{}2]{smith:2020-x,\n   doe_b/c.d+e}."
    cite = one(text)
    assert cite.optional_args == ("see {the [odd] one}", "p.~3, \\S{}2")
    assert cite.keys == ("smith:2020-x", "doe_b/c.d+e")
    assert [text[s:e] for s, e in cite.key_spans] == list(cite.keys)
    assert text[cite.end] == "."


def test_whitespace_and_comments_between_command_and_args() -> None:
    text = "\\citep \n [p.~3]\t{a}  \\cite%\n{b}"
    a, b = find_cites(text)
    assert a.keys == ("a",) and a.optional_args == ("p.~3",)
    assert b.keys == ("b",)


def test_empty_keys_dropped_and_keys_in_order() -> None:
    cite = one(r"\cite{ a ,, b,c , }")
    assert cite.keys == ("a", "b", "c")
    assert len(cite.key_spans) == 3


def test_comment_inside_key_group_is_skipped() -> None:
    cite = one("\\cite{a,% b,c\n d}")
    assert cite.keys == ("a", "d")


def test_commented_out_and_escaped_percent() -> None:
    text = "% \\cite{no}\nreal 50\\% \\cite{yes} % \\cite{no2}\n\\\\% \\cite{no3}\n"
    assert [c.keys for c in find_cites(text)] == [("yes",)]
    assert comment_spans("a\\%b%c\nd") == [(4, 6)]


def test_nocite_and_linebreak_are_not_citations() -> None:
    assert find_cites(r"\nocite{*} \nocite{a} \\cite{b}") == []


def test_verbatim_like_environments_are_skipped() -> None:
    text = (
        "\\begin{verbatim}\\cite{v1}\\end{verbatim}\\cite{ok1}"
        "\\begin{lstlisting}[x]\n\\cite{v2}\n\\end{lstlisting}"
        "\\begin{comment}\\cite{v3}\\end{comment}% \\begin{verbatim}\n\\cite{ok2}"
    )
    assert [c.keys for c in find_cites(text)] == [("ok1",), ("ok2",)]
    assert ignored_spans("\\begin{verbatim}x")[0] == (0, 17)  # unclosed: to the end


def test_unclosed_group_is_truncated_not_crash() -> None:
    text = "as shown \\cite{smi\nand then \\emph{x} goes on}.\n\n\\citep{ok}"
    first, second = find_cites(text)
    assert not first.closed and first.keys == ("smi",)
    assert text[first.groups[0][0] : first.groups[0][1]] == "smi"
    assert second.closed and second.keys == ("ok",)
    typing = one("text \\citep{a, b")
    assert typing.keys == ("a", "b") and not typing.closed and typing.end == len("text \\citep{a, b")
    assert one("x \\cite{").keys == ()


def test_broken_optional_args_and_missing_group() -> None:
    assert find_cites("\\cite[unclosed\n\nnext para") == []
    assert find_cites("\\cite alone. \\citep") == []
    assert find_cites("\\citep[a][b][c]{k}") == []  # a third optional arg is not natbib


def test_user_wrappers() -> None:
    text = (
        "\\newcommand{\\mycite}[1]{\\cite{#1}}\n"
        "\\newcommand\\pcite[2][]{\\citep[#1]{#2}}\n"
        "\\def\\dcite#1{\\citet{#1}}\n"
        "\\NewDocumentCommand{\\xcite}{O{} m}{\\citep[#1]{#2}}\n"
        "Text \\mycite{a} \\pcite{b} \\pcite[p.~2]{c} \\dcite{d} \\xcite[see]{e} \\xcite{f}."
    )
    syntax = syntax_with_user_wrappers(text)
    cites = find_cites(text, syntax)
    assert [(c.command, c.keys) for c in cites] == [
        ("mycite", ("a",)), ("pcite", ("b",)), ("pcite", ("c",)), ("dcite", ("d",)),
        ("xcite", ("e",)), ("xcite", ("f",)),
    ]
    assert cites[2].optional_args == ("p.~2",) and cites[4].optional_args == ("see",)
    assert find_cites(text) == []  # the default syntax knows no wrappers


def test_strip_cites_removes_commands_and_ties() -> None:
    text = "shown by~\\cite{x}. Also \\citep[p.~2]{y} here % \\cite{kept}\nand (\\citet{z})"
    assert strip_cites(text) == "shown by. Also here % \\cite{kept}\nand ()"


def _main_tex(paper: Path) -> str:
    for line in (paper / "SOURCE.txt").read_text().splitlines():
        if line.startswith("main_tex:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no main_tex in {paper}")


def test_real_papers_cite_counts_match_manifest(bench_papers: Path) -> None:
    manifest = {r["id"]: r for r in csv.DictReader(open(bench_papers.parent / "manifest.tsv"), delimiter="\t")}
    assert len(manifest) == 20
    for paper_id, row in manifest.items():
        doc = flatten_document(bench_papers / paper_id / _main_tex(bench_papers / paper_id))
        cites = find_cites(doc.text, syntax_with_user_wrappers(doc.text))
        expected = int(row["n_cite_commands"])
        # The manifest counts a little differently (e.g. \citealt, \citeauthor); allow a small margin.
        assert abs(len(cites) - expected) <= max(2, expected // 20), (paper_id, len(cites), expected)
        assert all(c.closed for c in cites), paper_id
        # Only a genuinely empty ``\cite{}`` (Bihaqo has one: an author's placeholder) may have no keys.
        assert all(c.keys or doc.text[c.start : c.end].endswith("{}") for c in cites), paper_id
        for c in cites:
            assert [doc.text[s:e] for s, e in c.key_spans] == list(c.keys)


def test_fast_on_a_large_document() -> None:
    paragraph = (
        "Some text with $x^2$ math and \\emph{emphasis} as shown by \\citet{smith2020} and others "
        "\\citep[see][p.~3]{doe2019,roe2018}. % a comment \\cite{no}\n"
        "\\begin{equation} a = b \\label{eq} \\end{equation} More words \\ref{fig} here.\n\n"
    )
    text = paragraph * (1_500_000 // len(paragraph) + 1)
    assert len(text) >= 1_500_000
    t0 = time.perf_counter()
    cites = find_cites(text, DEFAULT_CITE_SYNTAX)
    elapsed = time.perf_counter() - t0
    assert len(cites) == 2 * text.count("Some text")
    print(f"find_cites on 1.5 MB: {elapsed:.3f}s")  # speed targets live in bench/latex_speed.py
