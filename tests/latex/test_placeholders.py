from startref.latex.commands import syntax_with_user_wrappers
from startref.latex.placeholders import Placeholder, find_placeholders


def test_cite_command_placeholders_keep_command_and_optional_args() -> None:
    text = "A \\cite{?} B \\cite{} C \\citep{ ? } D \\citet*[p.~3]{?} E \\cite{real} F \\cite{?,x}"
    found = find_placeholders(text)
    assert [p.command for p in found] == ["cite", "cite", "citep", "citet"]
    assert [text[p.start : p.end] for p in found] == ["\\cite{?}", "\\cite{}", "\\citep{ ? }", "\\citet*[p.~3]{?}"]
    assert found[3].replacement("smith2020", "citep") == "\\citet*[p.~3]{smith2020}"
    assert found[2].replacement("a,b") == "\\citep{a,b}"
    filled = text[: found[3].start] + found[3].replacement("k") + text[found[3].end :]
    assert "\\citet*[p.~3]{k} E" in filled


def test_bare_markers() -> None:
    text = (
        "as in [CITATION]. Then [START_REF] generate here\n"
        "done [START_REF] Attention is all you need, Vaswani[END_REF] ok"
    )
    found = find_placeholders(text)
    assert [(text[p.start : p.end], p.command) for p in found] == [("[CITATION]", None), ("[START_REF]", None)]
    assert found[0].replacement("k", "citep") == "\\citep{k}"
    assert Placeholder(0, 1, None).replacement("k") == "\\cite{k}"


def test_none_inside_comments_or_verbatim() -> None:
    text = "% \\cite{?} [CITATION]\n\\begin{verbatim}\\cite{}\\end{verbatim} 50\\% \\cite{?}"
    found = find_placeholders(text)
    assert len(found) == 1 and text[found[0].start : found[0].end] == "\\cite{?}"


def test_wrapper_placeholders_and_unclosed_groups() -> None:
    text = "\\newcommand{\\mycite}[1]{\\citep{#1}}\nSee \\mycite{?} and \\cite{"
    found = find_placeholders(text)
    assert [p.command for p in found] == ["mycite"]
    assert found[0].replacement("k") == "\\mycite{k}"
    assert find_placeholders(text, syntax_with_user_wrappers("")) == []
