import pytest

from startref.latex.errors import LatexInputError
from startref.latex.position import (
    line_col_from_offset,
    line_of_offset,
    lsp_from_offset,
    offset_from_line_col,
    offset_from_lsp,
)

TEXT = "first line\nsecond 𝔸 line 😀 end\n\nlast"


def test_line_col_roundtrip() -> None:
    for offset in range(len(TEXT) + 1):
        line, col = line_col_from_offset(TEXT, offset)
        assert offset_from_line_col(TEXT, line, col) == offset
        assert line_of_offset(TEXT, offset) == line


def test_line_col_values() -> None:
    assert offset_from_line_col(TEXT, 1, 1) == 0
    assert offset_from_line_col(TEXT, 2, 1) == 11
    assert offset_from_line_col(TEXT, 1, 11) == 10  # len(line) + 1 = end of line
    assert offset_from_line_col(TEXT, 3, 1) == TEXT.index("\n\n") + 1  # empty line
    assert line_col_from_offset(TEXT, len(TEXT)) == (4, 5)


def test_lsp_counts_astral_characters_twice() -> None:
    line2 = "second 𝔸 line 😀 end"
    start = 11
    assert offset_from_lsp(TEXT, 1, 7) == start + 7  # the 𝔸
    assert offset_from_lsp(TEXT, 1, 9) == start + 8  # after 𝔸 (2 UTF-16 units)
    after_emoji = line2.index("😀") + 1  # in code points; 2 more UTF-16 units (𝔸 and 😀 count 2 each)
    assert offset_from_lsp(TEXT, 1, len(line2.encode("utf-16-le")) // 2) == start + len(line2)
    assert offset_from_lsp(TEXT, 1, after_emoji + 2) == start + after_emoji
    for offset in range(len(TEXT) + 1):
        assert offset_from_lsp(TEXT, *lsp_from_offset(TEXT, offset)) == offset


def test_lsp_inside_surrogate_pair_is_an_error() -> None:
    with pytest.raises(LatexInputError, match="surrogate pair"):
        offset_from_lsp(TEXT, 1, 8)


def test_crlf_lines_exclude_carriage_return() -> None:
    text = "ab\r\ncd"
    assert offset_from_line_col(text, 1, 3) == 2
    assert offset_from_line_col(text, 2, 1) == 4
    with pytest.raises(LatexInputError):
        offset_from_line_col(text, 1, 4)


@pytest.mark.parametrize(
    "call",
    [
        lambda: offset_from_line_col(TEXT, 0, 1),
        lambda: offset_from_line_col(TEXT, 5, 1),
        lambda: offset_from_line_col(TEXT, 1, 0),
        lambda: offset_from_line_col(TEXT, 1, 12),
        lambda: offset_from_lsp(TEXT, 4, 0),
        lambda: offset_from_lsp(TEXT, 0, 11),
        lambda: line_col_from_offset(TEXT, -1),
        lambda: line_of_offset(TEXT, len(TEXT) + 1),
    ],
)
def test_out_of_range_positions_raise_clearly(call) -> None:
    with pytest.raises(LatexInputError) as info:
        call()
    assert "outside" in str(info.value)
    assert info.value.code == LatexInputError.CURSOR_OUT_OF_RANGE
