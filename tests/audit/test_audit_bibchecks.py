"""The checks that need no model, on real dev papers: undefined keys in a multi-file thesis, duplicate entries,
one work cited under two keys, incomplete and unused entries, and the parser's problems."""

from __future__ import annotations

from pathlib import Path

from startref.citations.audit.bibchecks import (
    bib_problems,
    closest_keys,
    duplicate_entries,
    incomplete_entries,
    is_placeholder_key,
    same_work_cited,
    undefined_keys,
    unused_entries,
)
from startref.citations.audit.document import document_from_text, load_document
from startref.citations.audit.identity import same_work_groups, same_work_map
from startref.citations.bibindex import load_bibliography, parse_bib_text


def test_undefined_keys_in_included_files_with_the_closest_existing_keys(bench_papers: Path) -> None:
    paper = bench_papers / "JannisCodes__migration-trajectories"
    doc = load_document(paper / "manuscript.tex", relative_to=paper)
    index = load_bibliography(sorted(paper.rglob("*.bib")))
    found = {f.key: f for f in undefined_keys(doc, index)}
    assert set(found) >= {"castro-alvarez2024", "houben2015", "koval2013", "bos2019", "wang2012a", "beijers2022"}
    f = found["castro-alvarez2024"]
    assert f.severity == "error" and f.code == "undefined_key"
    assert f.location.file == "latex-results/03FeatureExtraction.tex" and f.location.line == 241
    source = (paper / f.location.file).read_text(encoding="utf-8")
    assert source[f.location.offset : f.location.end_offset] == "castro-alvarez2024"
    line = source.splitlines()[f.location.line - 1]
    assert line[f.location.column - 1 : f.location.end_column - 1] == "castro-alvarez2024"
    assert [r.text for r in f.replacements][:1] == ["castro-alvarez2022a"]
    assert "`castro-alvarez2022a`" in f.message
    assert all(index.get(k) is not None for c in doc.cites for k in c.keys if k not in found)


def test_closest_keys_are_case_insensitive_and_bounded() -> None:
    index = parse_bib_text("@misc{Smith2019b, title={A}}\n@misc{smith2019a, title={B}}\n@misc{jones2020, title={C}}\n")
    near = closest_keys("smith2019", index)
    assert {k for k, _ in near} == {"Smith2019b", "smith2019a"}
    assert all(score >= 0.6 for _, score in near)
    assert closest_keys("zzzzzz", index) == []


def test_placeholders_and_nocite_star_are_not_undefined_keys() -> None:
    index = parse_bib_text("@article{real, title={A real paper about things}, author={A, B}, year={2020}}\n")
    doc = document_from_text("A \\cite{?} B \\citep{real} C \\nocite{*} D \\nocite{ghost}\n")
    assert is_placeholder_key("?") and is_placeholder_key("TODO") and not is_placeholder_key("real")
    assert [f.key for f in undefined_keys(doc, index)] == ["ghost"]
    assert unused_entries(doc, index) == []  # \nocite{*} uses every entry


def test_a_bibliography_with_a_duplicate_entry(bench_papers: Path) -> None:
    index = load_bibliography([bench_papers / "lh3__minimap2" / "tex" / "minimap2.bib"])
    groups = same_work_groups(index)
    found = duplicate_entries(groups)
    assert [(f.key, f.details["same_as"], f.details["reason"]) for f in found] == [
        ("Sedlazeck:2018ab", "Sedlazeck169557", "title")]
    f = found[0]
    assert f.severity == "warning" and f.location.file.endswith("minimap2.bib")
    bib_lines = (bench_papers / "lh3__minimap2" / "tex" / "minimap2.bib").read_text(encoding="utf-8").splitlines()
    assert "Sedlazeck:2018ab" in bib_lines[f.location.line - 1]
    assert f.related and "Sedlazeck169557" in bib_lines[f.related[0].location.line - 1]
    assert same_work_map(groups)["Sedlazeck169557"] == {"Sedlazeck169557", "Sedlazeck:2018ab"}


def test_one_work_cited_under_two_keys(bench_papers: Path) -> None:
    paper = bench_papers / "VatsalSy__DropImpact_PRL_arXiv"
    doc = load_document(paper / "ms.tex", relative_to=paper)
    index = load_bibliography(sorted(paper.rglob("*.bib")))
    found = same_work_cited(doc, index, same_work_groups(index))
    assert [(f.key, f.details["same_as"]) for f in found] == [("prandtl1904", "Prandtl1905")]
    f = found[0]
    text = (paper / "ms.tex").read_text(encoding="utf-8")
    assert text[f.location.offset : f.location.end_offset] == "prandtl1904"
    assert f.replacements[0].text == "Prandtl1905" and f.related[0].location.line < f.location.line


def test_duplicates_need_a_long_title_or_an_identifier() -> None:
    index = parse_bib_text(
        "@misc{a, title={Introduction}, year={2001}}\n@misc{b, title={Introduction}, year={2002}}\n"
        "@article{c, title={X}, doi={10.1000/XYZ}}\n@article{d, title={Y}, doi={https://doi.org/10.1000/xyz}}\n"
        "@article{e, title={Z}, eprint={2101.00001}, archiveprefix={arXiv}}\n@misc{f, title={W}, url={https://arxiv.org/abs/2101.00001v2}}\n")
    groups = same_work_groups(index)
    assert sorted((g.reason, tuple(e.key for e in g.entries)) for g in groups) == [("arxiv", ("e", "f")), ("doi", ("c", "d"))]


def test_incomplete_entries_cited_are_warnings_uncited_info() -> None:
    index = parse_bib_text(
        "@article{full, title={A full entry of a paper}, author={Doe, Jane}, year={2020}}\n"
        "@misc{notitle, author={Doe, Jane}, date={2021-02-01}}\n"
        "@book{edited, title={Edited volume}, editor={Roe, Rick}, year={1999}}\n"
        "@misc{bare, title={Only a title}}\n")
    found = {f.key: f for f in incomplete_entries(index, {"notitle", "edited", "full"}, include_uncited=True)}
    assert set(found) == {"notitle", "bare"}
    assert found["notitle"].severity == "warning" and found["notitle"].details["missing"] == ["title"]
    assert found["bare"].severity == "info" and found["bare"].details["missing"] == ["author", "year"]
    assert found["notitle"].location.line == 2


def test_parser_problems_become_findings(bench_papers: Path) -> None:
    index = load_bibliography(sorted((bench_papers / "sympy__sympy-paper").rglob("*.bib")))
    codes = {f.code for f in bib_problems(index.problems)}
    assert "bib_parse_error" in codes
    assert all(f.location.line >= 1 for f in bib_problems(index.problems))


def test_unused_entries_are_info() -> None:
    index = parse_bib_text("@misc{smith2019a, title={A}}\n@misc{smith2019b, title={B}}\n")
    doc = document_from_text("See \\cite{smith2019b}.")
    found = unused_entries(doc, index)
    assert [(f.key, f.severity, f.code) for f in found] == [("smith2019a", "info", "unused_entry")]
