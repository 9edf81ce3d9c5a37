from startref.latex.errors import LatexInputError


def test_renders_path_line_message() -> None:
    err = LatexInputError("bad thing", path="paper/main.tex", line=12, code="binary_input")
    assert str(err) == "paper/main.tex:12: bad thing"
    assert (err.path, err.line, err.message, err.code) == ("paper/main.tex", 12, "bad thing", "binary_input")


def test_omits_missing_parts() -> None:
    assert str(LatexInputError("no path here")) == "no path here"
    assert str(LatexInputError("whole file", path="a.tex")) == "a.tex: whole file"
    assert str(LatexInputError("just a line", line=3)) == "line 3: just a line"
    assert LatexInputError("x").code is None
