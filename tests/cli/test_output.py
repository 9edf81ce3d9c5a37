"""Pure helpers of the CLI: splicing edits, diffs, tables, positions, error locations."""

from __future__ import annotations

import pytest

from startref.citations.suggestion import AnnotateEdit
from startref.cli.annotate import apply_edits, unified_diff
from startref.cli.common import line_col
from startref.cli.errors import located
from startref.cli.output import format_table, shorten


def _edit(start: int, end: int, new: str) -> AnnotateEdit:
    return AnnotateEdit(start=start, end=end, line=1, old="", new=new, candidates=[])


def test_apply_edits_splices_in_any_order() -> None:
    text = "a \\cite{?} b [CITATION] c"
    edits = [_edit(13, 23, "\\citep{y}"), _edit(2, 10, "\\cite{x}")]
    assert apply_edits(text, edits) == "a \\cite{x} b \\citep{y} c"


def test_apply_edits_refuses_overlap_and_out_of_range() -> None:
    with pytest.raises(ValueError):
        apply_edits("abcdef", [_edit(0, 3, "x"), _edit(2, 4, "y")])
    with pytest.raises(ValueError):
        apply_edits("abc", [_edit(2, 9, "x")])


def test_unified_diff_marks_missing_final_newline() -> None:
    diff = unified_diff("x\r\ny", "x\r\nz", "p.tex")
    assert diff.startswith("--- a/p.tex\n+++ b/p.tex\n")
    assert "-y\n\\ No newline at end of file\n+z\n\\ No newline at end of file\n" in diff
    assert unified_diff("same\n", "same\n", "p.tex") == ""


def test_line_col_is_one_based_and_counts_code_points() -> None:
    text = "ab\r\ncé𝔸d"
    assert line_col(text, 0) == (1, 1)
    assert line_col(text, text.index("d")) == (2, 4)
    assert line_col(text, len(text)) == (2, 5)


def test_format_table_aligns_and_shortens() -> None:
    lines = format_table(("n", "title"), [(1, "A very long title indeed"), (10, "B")], right=(0,),
                         max_widths={1: 10})
    assert lines == [" n  title", " 1  A very lo…", "10  B"]
    assert shorten("x\n  y", 10) == "x y"


def test_located_adds_the_file_only_when_missing() -> None:
    assert located("line 3: bad", "p.tex") == "p.tex: line 3: bad"
    assert located("/x/p.tex:3: bad", "/x/p.tex") == "/x/p.tex:3: bad"
    assert located("bad", None) == "bad"
