"""The outline around a cursor (``latex/sections.py``): headings, the section and paragraph a cursor is in.

Cursors are written as ``|`` in the fixtures, as in test_context.py.
"""

from __future__ import annotations

from startref.latex.sections import Outline, headings, outline_at


def at(marked: str) -> tuple[str, int]:
    assert marked.count("|") == 1
    return marked.replace("|", ""), marked.index("|")


DOC = r"""\documentclass{article}
\begin{document}
\section{Introduction}
Intro words \cite{a}.

\section[Short]{Related {W}ork on \emph{Graphs}}
Some prose.
\subsection*{Kernels}
First paragraph \cite{b}.

Second paragraph |here.
% \section{Commented out}
\begin{verbatim}
\section{Inside verbatim}
\end{verbatim}
\section {Conclusion}
Bye.
\end{document}
"""


def test_headings_are_found_with_plain_titles_and_levels() -> None:
    text, _ = at(DOC)
    found = [(h.level, h.title) for h in headings(text)]
    assert found == [(2, "Introduction"), (2, "Related Work on Graphs"), (3, "Kernels"), (2, "Conclusion")]


def test_outline_names_the_section_the_innermost_heading_and_the_paragraph() -> None:
    text, cursor = at(DOC)
    outline = outline_at(text, cursor)
    assert outline.section_title == "Related Work on Graphs"
    assert text[outline.section_start :].startswith(r"\section[Short]")
    assert text[outline.subsection_start :].startswith(r"\subsection*{Kernels}")
    assert outline.subsection_title == "Kernels"
    assert text[outline.paragraph_start :].startswith("Second paragraph")


def test_a_paragraph_starts_at_its_heading_when_no_blank_line_follows_it() -> None:
    text, cursor = at("\\section{A}\nx\n\n\\subsection{B}\nwords |here")
    outline = outline_at(text, cursor)
    assert outline.paragraph_start == outline.subsection_start == text.index("\\subsection")
    assert outline.section_title == "A"


def test_no_heading_above_the_cursor_gives_the_empty_outline() -> None:
    text, cursor = at("Just words | and \\section{Later}")
    assert outline_at(text, cursor) == Outline()


def test_a_cursor_on_a_heading_belongs_to_the_section_before_it() -> None:
    text, cursor = at("\\section{One}\ntext\n|\\section{Two}\n")
    assert outline_at(text, cursor).section_title == "One"


def test_unbalanced_headings_are_skipped_not_fatal() -> None:
    text, cursor = at("\\section{Broken\n\nwords |")
    assert outline_at(text, cursor).section_title == ""
