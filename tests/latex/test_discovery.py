import os
from pathlib import Path

import pytest

from startref.latex.cites import find_cites
from startref.latex.discovery import discover_bibliographies, find_root
from startref.latex.flatten import flatten_document
from startref.latex.errors import LatexInputError


def write(root: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(
        tmp_path,
        {
            "main.tex": (
                "\\documentclass{article}\n\\input{preamble}\n% \\bibliography{commented}\n"
                "\\begin{document}\n\\include{chapters/one}\n\\input chapters/two.tex\n"
                "\\subfile{sub/part}\n\\import{imp/}{three}\n\\input{nothere}\n"
                "\\bibliography{refs, more/extra,\n  gone}\n\\end{document}\n"
            ),
            "preamble.tex": "\\usepackage{biblatex}\n\\addbibresource[label=x]{lib.bib}\n\\input{main}\n",
            "chapters/one.tex": "One \\cite{a}. \\addglobalbib{global.bib}\n",
            "chapters/two.tex": "Two \\citep{b}. % \\input{nope}\n",
            "sub/part.tex": "\\documentclass[../main.tex]{subfiles}\n\\begin{document}\nPart \\cite{c}.\n\\end{document}\n",
            "imp/three.tex": "Three \\subimport{deeper/}{four}\n",
            "imp/deeper/four.tex": "Four \\cite{d}. \\addbibresource{local4.bib}\n",
            "imp/deeper/local4.bib": "",
            "refs.bib": "",
            "more/extra.bib": "",
            "lib.bib": "",
            "global.bib": "",
            "commented.bib": "",
        },
    )
    return tmp_path


def test_nested_inputs_and_bib_order(project: Path) -> None:
    d = discover_bibliographies(project / "main.tex", bibinputs="")
    rel = [p.relative_to(project).as_posix() for p in d.files]
    assert rel == ["lib.bib", "global.bib", "imp/deeper/local4.bib", "refs.bib", "more/extra.bib"]
    assert all(p.is_absolute() for p in d.files)
    assert d.missing == ["gone"]
    assert d.missing_inputs == ["nothere"]
    visited = [p.relative_to(project).as_posix() for p in d.tex_files]
    assert visited == ["main.tex", "preamble.tex", "chapters/one.tex", "chapters/two.tex", "sub/part.tex",
                       "imp/three.tex", "imp/deeper/four.tex"]
    assert d.guessed == [] and d.usable == d.files


def test_magic_root_comment_and_unsaved_buffer(project: Path) -> None:
    chapter = project / "chapters" / "one.tex"
    chapter.write_text("%!TeX root = ../main.tex\nOne \\cite{a}.\n")
    assert find_root(chapter) == project / "main.tex"
    assert find_root(project / "main.tex") == project / "main.tex"
    d = discover_bibliographies(chapter, bibinputs="")
    assert d.root == project / "main.tex" and (project / "refs.bib") in d.files
    buffer = "% !TEX root = ../main.tex\n\\bibliography{commented}\n"  # unsaved edit of one.tex
    d2 = discover_bibliographies(chapter, text=buffer, bibinputs="")
    assert project / "commented.bib" in d2.files and project / "global.bib" not in d2.files
    # buffer of a root file without magic comment
    d3 = discover_bibliographies(project / "main.tex", text="\\addbibresource{global.bib}", bibinputs="")
    assert d3.files == [project / "global.bib"]


def test_magic_root_to_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    write(tmp_path, {"a.tex": "x\n% !TEX root = nowhere.tex\n"})
    with pytest.raises(LatexInputError) as info:
        find_root(tmp_path / "a.tex")
    assert info.value.line == 2 and "nowhere.tex" in str(info.value) and str(tmp_path / "a.tex") in str(info.value)


def test_bibinputs_env_and_recursive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"doc/main.tex": "\\bibliography{shared,deep}", "lib/shared.bib": "", "tree/x/y/deep.bib": ""})
    monkeypatch.setenv("BIBINPUTS", os.pathsep.join(["", str(tmp_path / "lib"), str(tmp_path / "tree") + "//"]))
    d = discover_bibliographies(tmp_path / "doc" / "main.tex")
    assert d.files == [tmp_path / "lib" / "shared.bib", tmp_path / "tree" / "x" / "y" / "deep.bib"]
    d2 = discover_bibliographies(tmp_path / "doc" / "main.tex", bibinputs="")
    assert d2.files == [] and d2.missing == ["shared", "deep"]


def test_guess_when_no_bibliography_is_named(tmp_path: Path) -> None:
    write(tmp_path, {"paper.tex": "\\smartbib\n", "paper.bib": "", "other.bib": ""})
    d = discover_bibliographies(tmp_path / "paper.tex", bibinputs="")
    assert d.files == [] and d.guessed == [tmp_path / "paper.bib"] and d.usable == d.guessed


def test_cycles_and_bad_root(tmp_path: Path) -> None:
    write(tmp_path, {"a.tex": "\\input{b}\\bibliography{x}", "b.tex": "\\input{a}", "x.bib": ""})
    assert discover_bibliographies(tmp_path / "a.tex", bibinputs="").files == [tmp_path / "x.bib"]
    flat = flatten_document(tmp_path / "a.tex")
    assert flat.text == "\\input{a}\\bibliography{x}"
    with pytest.raises(LatexInputError, match="file not found"):
        discover_bibliographies(tmp_path / "none.tex")
    (tmp_path / "bin.tex").write_bytes(b"\x00\x01")
    with pytest.raises(LatexInputError, match="binary"):
        discover_bibliographies(tmp_path / "bin.tex")


def test_flatten_expands_inputs_inline(project: Path) -> None:
    (project / "preamble.tex").write_text("\\usepackage{natbib}\n")
    flat = flatten_document(project / "main.tex")
    assert "One \\cite{a}" in flat.text and "Two \\citep{b}" in flat.text and "Four \\cite{d}" in flat.text
    assert "Part \\cite{c}." in flat.text and "subfiles" not in flat.text
    assert "\\input{nothere}" in flat.text and flat.missing == ["nothere"]
    assert "\\usepackage{natbib}" in flat.text and "\\input{preamble}" not in flat.text
    assert [c.keys[0] for c in find_cites(flat.text)] == ["a", "b", "c", "d"]
    with pytest.raises(LatexInputError, match="grows past"):
        flatten_document(project / "main.tex", max_bytes=100)


def _source(paper: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    key = ""
    for line in (paper / "SOURCE.txt").read_text().splitlines():
        if line.startswith("  ") and key:
            out[key].append(line.strip())
        elif ":" in line:
            key, value = line.split(":", 1)
            out[key] = [value.strip()] if value.strip() else []
    return out


def test_every_bench_paper_finds_its_bibliography(bench_papers: Path) -> None:
    papers = sorted(p for p in bench_papers.iterdir() if p.is_dir())
    assert len(papers) == 20
    guessed_only = []
    for paper in papers:
        src = _source(paper)
        listed = {(paper / b).resolve() for b in src["bib_files"]}
        d = discover_bibliographies(paper / src["main_tex"][0], bibinputs="")
        found = {p.resolve() for p in d.usable}
        assert found & listed, (paper.name, d)
        assert found <= listed, (paper.name, found - listed)
        if not d.files:
            guessed_only.append(paper.name)
    # HAFiscal names its bibliography through a macro (\smartbib); every other paper names it directly.
    assert guessed_only == ["econ-ark__HAFiscal-Public"]


def test_bench_multi_bib_papers_find_all(bench_papers: Path) -> None:
    thesis = discover_bibliographies(bench_papers / "153957__phd_thesis" / "thesis.tex", bibinputs="")
    assert len(thesis.files) == 6  # the commented-out \addbibresource lines are ignored
    bihaqo = discover_bibliographies(bench_papers / "Bihaqo__thesis" / "dissertation.tex", bibinputs="")
    assert [p.name for p in bihaqo.files] == [
        "othercites.bib", "authorpapersVAK.bib", "authorpapers.bib", "authorconferences.bib"
    ]
    assert "Dissertation/part4" in bihaqo.missing_inputs


def test_explicit_extension_and_remote_resources(tmp_path: Path) -> None:
    write(tmp_path, {
        "m.tex": "\\bibliography{refs.bib}\n\\addbibresource[location=remote]{http://x.org/a.bib}\n"
                 "\\addbibresource{noext}\n",
        "refs.bib": "", "noext.bib": "",
    })
    d = discover_bibliographies(tmp_path / "m.tex", bibinputs="")
    assert d.files == [tmp_path / "refs.bib", tmp_path / "noext.bib"]
    assert d.missing == ["http://x.org/a.bib"]
