"""Cursor context and insertion edits (``latex/context.py``).

Cursors are written as ``|`` in the fixtures, texlab style: ``at("\\cite{a, b|}")`` is the text without the bar and
the bar's offset.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from startref.latex.cites import find_cites
from startref.latex.commands import syntax_with_user_wrappers
from startref.latex.context import CursorContext, cursor_context, insertion_for
from startref.latex.errors import LatexInputError
from startref.latex.source import read_tex


def at(marked: str) -> tuple[str, int]:
    assert marked.count("|") == 1
    cursor = marked.index("|")
    return marked.replace("|", ""), cursor


def ctx_of(marked: str) -> CursorContext:
    text, cursor = at(marked)
    return cursor_context(text, cursor)


def apply(ctx: CursorContext, key: str, command: str | None = None) -> str:
    start, end, new = insertion_for(ctx, key, command)
    return ctx.text[:start] + new + ctx.text[end:]


def test_outside_a_cite_inserts_the_dominant_command() -> None:
    ctx = ctx_of("As \\citep{a} and \\citep{b} and \\cite{c} show |.")
    assert ctx.inside_cite is None and ctx.inside_group is None and ctx.typed_prefix == ""
    assert ctx.dominant_command == "citep"
    assert [c.keys for c in ctx.earlier_cites] == [("a",), ("b",), ("c",)]
    assert apply(ctx, "smith2020") == "As \\citep{a} and \\citep{b} and \\cite{c} show \\citep{smith2020}."
    assert apply(ctx, "smith2020", command="citet").endswith("show \\citet{smith2020}.")


def test_dominant_defaults_to_cite_and_counts_wrappers() -> None:
    assert ctx_of("No citations here |.").dominant_command == "cite"
    wrapped = "\\newcommand{\\mycite}[1]{\\citep{#1}}\n\\mycite{a} \\mycite{b} \\cite{c} |"
    ctx = ctx_of(wrapped)
    assert ctx.dominant_command == "mycite"
    assert all("#" not in k for c in ctx.earlier_cites for k in c.keys)  # the definition body is no citation
    assert apply(ctx, "k").endswith("\\mycite{k}")


def test_starred_and_capitalised_forms_count_under_their_name() -> None:
    ctx = ctx_of("\\Citet*{a} \\Citet{b} \\cite{c} |")
    assert ctx.dominant_command == "Citet"


@pytest.mark.parametrize(
    ("marked", "prefix", "expected"),
    [
        ("See \\cite{|}.", "", "See \\cite{new}."),
        ("See \\cite{sm|}.", "sm", "See \\cite{new}."),
        ("See \\cite{a, sm|}.", "sm", "See \\cite{a, new}."),
        ("See \\cite{a, |}.", "", "See \\cite{a, new}."),
        ("See \\cite{a,|}. And \\cite{x, y}", "", "See \\cite{a, new}. And \\cite{x, y}"),
        ("See \\cite{a,|}. And \\cite{x,y} \\cite{p,q}", "", "See \\cite{a,new}. And \\cite{x,y} \\cite{p,q}"),
        ("See \\cite{a |}.", "", "See \\cite{a, new}."),
        ("See \\cite{a|}.", "a", "See \\cite{new}."),
        ("See \\cite{sm|ith, b}.", "sm", "See \\cite{new, b}."),
        ("See \\citep[p.~3]{|}.", "", "See \\citep[p.~3]{new}."),
        ("See \\cites[a]{x}[b]{|}.", "", "See \\cites[a]{x}[b]{new}."),
        ("See \\cite{\n  a,\n  |}.", "", "See \\cite{\n  a,\n  new}."),
    ],
)
def test_inside_a_group_replaces_the_typed_prefix(marked: str, prefix: str, expected: str) -> None:
    ctx = ctx_of(marked)
    assert ctx.inside_cite is not None and ctx.inside_group is not None
    assert ctx.typed_prefix == prefix
    assert apply(ctx, "new") == expected


def test_half_typed_cite_at_the_end_of_the_buffer() -> None:
    ctx = ctx_of("Earlier \\citet{x}. Deep nets \\citep{lec|")
    assert ctx.inside_cite is not None and ctx.inside_cite.command == "citep"
    assert ctx.typed_prefix == "lec"
    assert [c.keys for c in ctx.earlier_cites] == [("x",)]
    assert apply(ctx, "lecun2015") == "Earlier \\citet{x}. Deep nets \\citep{lecun2015"


def test_key_already_in_the_cite_is_a_no_op() -> None:
    ctx = ctx_of("See \\cite{a, b, |}.")
    assert insertion_for(ctx, "a") == (ctx.cursor, ctx.cursor, "")
    ctx = ctx_of("See \\cite{b|}.")
    assert insertion_for(ctx, "b") == (ctx.cursor, ctx.cursor, "")


def test_cursor_just_before_a_cite_is_outside_it() -> None:
    ctx = ctx_of("See |\\cite{a} and \\cite{b}.")
    assert ctx.inside_cite is None
    assert ctx.earlier_cites == ()
    ctx = ctx_of("See \\cite{a}| and \\cite{b}.")
    assert ctx.inside_cite is None and [c.keys for c in ctx.earlier_cites] == [("a",)]
    ctx = ctx_of("See \\cite[p.~|3]{a}.")
    assert ctx.inside_cite is None  # in the optional argument, not in the keys


def test_commented_cites_do_not_count() -> None:
    ctx = ctx_of("% \\cite{a|}\nText")
    assert ctx.inside_cite is None
    assert ctx_of("% \\citet{a} \\citet{b}\n\\cite{c} |").dominant_command == "cite"


def test_windows_and_their_line_cut() -> None:
    text = "".join(f"line {i:04d} of the text\n" for i in range(500))
    cursor = text.index("line 0300")
    ctx = cursor_context(text, cursor, before_chars=1000, after_chars=200)
    assert ctx.before and len(ctx.before) <= 1000 and ctx.before.startswith("line ")
    assert text[:cursor].endswith(ctx.before)
    assert ctx.after == text[cursor : cursor + 200]
    ctx = cursor_context(text, 10)
    assert ctx.before == text[:10]


@pytest.mark.parametrize("cursor", [-1, 12])
def test_cursor_outside_the_text_is_a_clear_error(cursor: int) -> None:
    with pytest.raises(LatexInputError, match=r"cursor -?\d+ outside the text \(length 11\)"):
        cursor_context("hello world", cursor)


def test_cursor_at_both_ends_is_fine() -> None:
    assert cursor_context("", 0).before == ""
    assert cursor_context("abc", 3).after == ""


def _main_text(paper: Path) -> str:
    main = re.search(r"^main_tex: (.*)$", (paper / "SOURCE.txt").read_text(), re.M)
    assert main, paper
    return read_tex(paper / main.group(1).strip()).text


def test_every_real_cite_is_recognised_from_inside_its_group(bench_papers: Path) -> None:
    """At the end of each key group of each real paper: inside that cite, and re-inserting a key is a no-op."""
    checked = 0
    for paper in sorted(bench_papers.iterdir()):
        text = _main_text(paper)
        syntax = syntax_with_user_wrappers(text)
        cites = [c for c in find_cites(text, syntax) if c.keys and c.closed]
        for cite in cites[:15]:
            group = cite.groups[-1]
            ctx = cursor_context(text, group[1], syntax=syntax, cites=cites)
            assert ctx.inside_cite == cite, (paper.name, cite)
            assert insertion_for(ctx, cite.keys[0]) == (group[1], group[1], "")
            checked += 1
    assert checked > 100


def test_inserting_outside_then_finding_it_again_on_real_papers(bench_papers: Path) -> None:
    """Right after each paper's last cite: the inserted command is found again, with the dominant name."""
    for paper in sorted(bench_papers.iterdir()):
        text = _main_text(paper)
        cites = find_cites(text, syntax_with_user_wrappers(text))
        if not cites:
            continue  # a root file that only \input-s its chapters
        ctx = cursor_context(text, cites[-1].end)
        assert ctx.inside_cite is None and len(ctx.earlier_cites) == len(cites)
        new = apply(ctx, "zz:new-key_2024")
        after = find_cites(new, syntax_with_user_wrappers(new))
        added = [c for c in after if c.keys == ("zz:new-key_2024",)]
        assert len(after) == len(cites) + 1, paper.name
        assert len(added) == 1 and added[0].command == ctx.dominant_command, paper.name


def test_context_on_a_large_document_is_fast(bench_papers: Path) -> None:
    """A 1.5 MB thesis: wrapper detection, all cites and the context of one cursor in well under a second."""
    import time

    chapter = (bench_papers / "153957__phd_thesis" / "chapters" / "2_station.tex").read_text()
    doc = "\\newcommand{\\mycite}[1]{\\citep{#1}}\n" + chapter * (1_500_000 // len(chapter) + 1)
    doc = doc[:1_500_000] + " \\mycite{la"
    t0 = time.perf_counter()
    ctx = cursor_context(doc, len(doc))
    elapsed = time.perf_counter() - t0
    assert ctx.inside_cite is not None and ctx.inside_cite.command == "mycite" and ctx.typed_prefix == "la"
    assert len(ctx.earlier_cites) > 300
    print(f"cursor_context on 1.5 MB: {elapsed:.3f}s")  # speed targets live in bench/latex_speed.py
