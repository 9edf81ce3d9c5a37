"""The feature modules of ``startref.lsp`` on tiny inline documents (texlab style): plain data in, plain data out.

No server and no models here: cite detection, key lookup, diagnostics, definition places and entry rendering are
checked directly; the protocol tests and the real editors exercise the same code end to end.
"""

from __future__ import annotations

from pathlib import Path

from startref.citations.bibindex import load_bibliography, parse_bib_text
from startref.lsp import diagnostics
from startref.lsp.completion import cite_slot
from startref.lsp.definition import definition_of
from startref.lsp.documents import BibLookup, bibliography_of, cites_of, key_at
from startref.lsp.entries import detail_line, entry_markdown, filter_text, short_label

BIB = r"""@article{he2016deep,
  title = {Deep Residual Learning for Image Recognition},
  author = {He, Kaiming and Zhang, Xiangyu and Ren, Shaoqing and Sun, Jian},
  journal = {CVPR},
  year = {2016},
  doi = {10.1109/CVPR.2016.90}
}
@inproceedings{vaswani2017attention,
  title = {Attention Is All You Need},
  author = {Vaswani, Ashish and Shazeer, Noam},
  booktitle = {NeurIPS},
  year = {2017}
}
"""


def _cursor(marked: str) -> tuple[str, int]:
    """Text with ``|`` marking the cursor -> (text, offset)."""
    at = marked.index("|")
    return marked[:at] + marked[at + 1 :], at


def test_cite_slot_covers_every_kind_of_cite_group() -> None:
    cases = {
        r"See \cite{|}.": (0, 0),
        r"See \citep[see][p.~3]{he2016deep, |}.": (0, 0),
        r"See \citep{he2016deep,vas|}.": (-3, 0),
        r"See \citet{va|swani}.": (-2, 5),
        r"See \parencites{he2016deep}{|}.": (0, 0),
        "\\newcommand{\\mycite}[1]{\\citep{#1}}\nSee \\mycite{|}.": (0, 0),
        r"See \cite{ab|": (-2, 0),
    }
    for marked, (back, ahead) in cases.items():
        text, cursor = _cursor(marked)
        assert cite_slot(text, cursor) == (cursor + back, cursor + ahead), marked


def test_cite_slot_is_none_outside_key_groups() -> None:
    for marked in (r"Plain| text \cite{a}.", r"\citep[se|e]{a}", r"% \cite{|} in a comment", r"\cite{a} |after"):
        text, cursor = _cursor(marked)
        assert cite_slot(text, cursor) is None, marked


def test_key_at_finds_the_key_under_the_cursor_including_its_end() -> None:
    text = r"As in \citep[p.~2]{he2016deep, vaswani2017attention} and \cite{#1}."
    for probe, key in (("he2016deep", "he2016deep"), ("vaswani2017", "vaswani2017attention")):
        start = text.index(probe)
        for offset in (start, start + 3, start + len(key)):
            found = key_at(text, offset)
            assert found is not None and found.key == key and text[found.start : found.end] == key
    assert key_at(text, text.index("As")) is None
    assert key_at(text, text.index("#1")) is None


def _doc(text: str, index) -> diagnostics.TexInput:  # noqa: ANN001
    return diagnostics.TexInput(text, None, cites_of(text)[1], BibLookup(index, list(index.files) if index else []))


def test_undefined_keys_name_the_closest_existing_ones() -> None:
    index = parse_bib_text(BIB, "refs.bib")
    text = r"\cite{he2016deep} \citep{he2016dep, vaswani2017attention} \cite{HE2016DEEP} \cite{unfinished"
    found = diagnostics.tex_findings(_doc(text, index))
    assert [(f.code, text[f.start : f.end]) for f in found] == [("undefined_key", "he2016dep")]
    assert found[0].severity == "error" and "closest: he2016deep" in found[0].message and "refs.bib" in found[0].message


def test_missing_bibliography_is_a_warning_only_when_the_document_cites() -> None:
    lookup = BibLookup(None, [], ["refs"], error="no bibliography found")
    text = "\\cite{a}\n\\bibliography{refs}\n"
    found = diagnostics.tex_findings(diagnostics.TexInput(text, None, cites_of(text)[1], lookup))
    assert [(f.severity, text[f.start : f.end]) for f in found] == [("warning", "refs")]
    assert diagnostics.tex_findings(diagnostics.TexInput("no cites", None, [], lookup)) == []


def test_providers_are_a_list_a_new_check_can_join() -> None:
    def shouting(doc: diagnostics.TexInput) -> list[diagnostics.Finding]:
        return [diagnostics.Finding(0, 4, "information", "loud", "demo")] if doc.text.startswith("LOUD") else []

    index = parse_bib_text(BIB, "refs.bib")
    found = diagnostics.tex_findings(_doc(r"LOUD \cite{nope}", index), [*diagnostics.TEX_PROVIDERS, shouting])
    assert [f.code for f in found] == ["demo", "undefined_key"]


def test_bib_problems_become_findings_on_their_lines(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(BIB + "@article{he2016deep, title={Again}}\n@article{broken,\n  title = {no end\n\n", encoding="utf-8")
    index = load_bibliography([bib])
    found = diagnostics.bib_findings(index.problems, [str(bib)])[str(bib)]
    kinds = {f.code: f for f in found}
    assert kinds["duplicate_key"].line == 14 and kinds["duplicate_key"].severity == "warning"
    assert kinds["parse_error"].line == 15 and kinds["parse_error"].severity == "error"
    assert diagnostics.bib_findings((), [str(bib)]) == {str(bib): []}  # clears old ones


def test_definition_points_at_the_key_on_its_entry_line(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text("% my refs\n\n" + BIB, encoding="utf-8")
    place = definition_of(load_bibliography([bib]), "vaswani2017attention")
    assert place is not None and place.line == 9
    assert place.line_text[place.start_col : place.end_col] == "vaswani2017attention"
    assert definition_of(load_bibliography([bib]), "missing") is None


def test_bibliography_of_reports_why_there_is_none(tmp_path: Path) -> None:
    tex = tmp_path / "paper.tex"
    lookup = bibliography_of(None, tex, "\\cite{a}\n\\bibliography{nothere}\n")
    assert lookup.index is None and lookup.missing == ["nothere"] and "nothere" in (lookup.error or "")
    lookup = bibliography_of(None, None, "\\cite{a}")
    assert lookup.index is None and "no file path" in (lookup.error or "")
    lookup = bibliography_of(None, tmp_path / "ch.tex", "% !TEX root = main.tex\n\\cite{a}")
    assert lookup.index is None and "main.tex" in (lookup.error or "")


def test_entry_rendering() -> None:
    entry = parse_bib_text(BIB, "refs.bib").get("he2016deep")
    assert detail_line(entry) == "Deep Residual Learning for Image Recognition — He, Zhang, Ren, Sun (2016)"
    assert short_label(entry) == "Deep Residual Learning for Image Recognition (He 2016)"
    assert filter_text(entry).split()[:2] == ["he2016deep", "Deep"] and "Kaiming" not in filter_text(entry)
    card = entry_markdown(entry, why="cited 2 times earlier")
    assert card.startswith("**Deep Residual Learning for Image Recognition**")
    assert "[doi:10.1109/cvpr.2016.90](https://doi.org/10.1109/cvpr.2016.90)" in card
    assert "*Why:* cited 2 times earlier" in card and "refs.bib:1" in card

    class LibraryCandidate:
        in_bib = False
        source = "Zotero"

    assert "Not in your .bib yet* (from Zotero)" in entry_markdown(entry, candidate=LibraryCandidate())
