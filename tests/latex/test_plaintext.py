"""LaTeX windows to plain text with Galactica-style cites (``latex/plaintext.py``)."""

from __future__ import annotations

import re
import time
from pathlib import Path

from startref.latex.cites import CiteCommand, find_cites
from startref.latex.commands import syntax_with_user_wrappers
from startref.latex.plaintext import MATH_PLACEHOLDER, galactica_ref, to_plain_text
from startref.latex.source import read_tex


def test_galactica_ref_format() -> None:
    assert galactica_ref("Attention is all you need", "Vaswani") == (
        "[START_REF] Attention is all you need, Vaswani[END_REF]"
    )
    assert galactica_ref("  A  title\nsplit ", " Smith ") == "[START_REF] A title split, Smith[END_REF]"
    assert galactica_ref("Only a title", "") == "[START_REF] Only a title[END_REF]"


def test_cites_removed_without_double_spaces_or_space_before_punctuation() -> None:
    latex = "Deep nets~\\citep{lecun} are good \\cite{a,b}. Shown by \\citet{x} and \\citep[p.~3]{y}, too \\cite{z}"
    assert to_plain_text(latex) == "Deep nets are good. Shown by and, too"


def test_cites_rendered_galactica_style() -> None:
    titles = {"lecun": ("Deep learning", "LeCun"), "x": ("Mastering Go", "Silver")}

    def render(cite: CiteCommand) -> str:
        title, author = titles[cite.keys[0]]
        return galactica_ref(title, author)

    out = to_plain_text("Deep nets~\\citep{lecun} are good. As \\citet{x} show.", render)
    assert out == (
        "Deep nets [START_REF] Deep learning, LeCun[END_REF] are good. "
        "As [START_REF] Mastering Go, Silver[END_REF] show."
    )


def test_renderer_sees_user_wrappers_when_given_their_syntax() -> None:
    latex = "\\newcommand{\\mycite}[1]{\\citep{#1}}\nText \\mycite{k1}."
    syntax = syntax_with_user_wrappers(latex)
    seen: list[tuple[str, ...]] = []

    def render(cite: CiteCommand) -> str:
        seen.append(cite.keys)
        return "[REF]" if cite.keys != ("#1",) else ""

    assert to_plain_text(latex, render, syntax=syntax).endswith("Text [REF].")
    assert ("k1",) in seen


def test_comments_refs_labels_dropped() -> None:
    latex = "See Fig.~\\ref{f} and Eq.~\\eqref{e}.\\label{sec} % a comment \\cite{hidden}\nNext 5\\% line"
    out = to_plain_text(latex)
    assert "comment" not in out and "hidden" not in out and "f}" not in out and "sec" not in out
    assert out == "See Fig. and Eq..\nNext 5% line"


def test_math_kept_short() -> None:
    assert to_plain_text("Let $x^2 + \\alpha$ be.") == "Let x^2 + α be."
    long_eq = "\\begin{align} " + " + ".join(f"a_{{{i}}}" for i in range(200)) + " \\end{align}"
    out = to_plain_text("Before " + long_eq + " after")
    assert MATH_PLACEHOLDER in out and len(out) < 50
    assert to_plain_text("$$" + "x" * 5000 + "$$") == MATH_PLACEHOLDER


def test_markup_to_words() -> None:
    out = to_plain_text("\\section{Intro}\nWe use \\emph{deep} \\textbf{nets}\\footnote{See below.} --- \\'etude.")
    assert out.startswith("Intro\n")
    assert "We use deep nets (See below.) — étude." in out


def test_unbalanced_braces_never_raise() -> None:
    for latex in ["{unbalanced \\textbf{x", "}} stray \\cite{a", "\\begin{itemize} \\item a", "$x", "\\"]:
        assert isinstance(to_plain_text(latex), str)
    assert "unbalanced" in to_plain_text("{unbalanced \\textbf{x")


def _main_text(paper: Path) -> str:
    main = re.search(r"^main_tex: (.*)$", (paper / "SOURCE.txt").read_text(), re.M)
    assert main, paper
    return read_tex(paper / main.group(1).strip()).text


def test_real_windows_are_fast_and_every_cite_is_rendered(bench_papers: Path) -> None:
    to_plain_text("warm up the converter")
    timings: list[float] = []
    windows = 0
    for paper in sorted(bench_papers.iterdir()):
        text = _main_text(paper)
        syntax = syntax_with_user_wrappers(text)
        for cite in find_cites(text, syntax)[:6]:
            window = text[max(0, cite.start - 2500) : cite.end + 500]
            n_cites = len(find_cites(window, syntax))
            t0 = time.perf_counter()
            out = to_plain_text(window, lambda c: galactica_ref("T", "A"), syntax=syntax)
            timings.append(time.perf_counter() - t0)
            assert out.count("[START_REF] T, A[END_REF]") == n_cites, paper.name
            assert "\\cite" not in out and "\\citep" not in out
            assert len(out) <= 1.5 * len(window) + 30 * n_cites  # \\maketitle adds a title block
            windows += 1
    timings.sort()
    assert windows > 80
    # Speed targets live in bench/latex_speed.py, not in a timed test.
    print(f"to_plain_text: median {timings[len(timings) // 2]:.3f}s, slowest {timings[-1]:.3f}s per 3 KB window")
