"""The audit's document: a multi-file project flattened, and every offset mapped back to its own file:line:col."""

from __future__ import annotations

from pathlib import Path

from startref.citations.audit.document import document_from_text, load_document


def _project(root: Path) -> Path:
    (root / "chapters").mkdir()
    (root / "main.tex").write_text(
        "\\documentclass{article}\n\\begin{document}\nIntro \\cite{alpha}.\n\\input{chapters/one}\n"
        "Closing~\\citep{gamma, delta}.\n\\bibliography{refs}\n\\end{document}\n", encoding="utf-8")
    (root / "chapters" / "one.tex").write_text("% !TEX root = ../main.tex\nFirst line.\n  As shown by \\cite{beta}.\n",
                                               encoding="utf-8")
    (root / "refs.bib").write_text("", encoding="utf-8")
    return root / "main.tex"


def test_cites_of_included_files_are_located_in_their_own_file(tmp_path: Path) -> None:
    main = _project(tmp_path)
    doc = load_document(main, relative_to=tmp_path)
    keys = [k for c in doc.cites for k in c.keys]
    assert keys == ["alpha", "beta", "gamma", "delta"]
    where = {}
    for cite in doc.cites:
        for key, (start, end) in zip(cite.keys, cite.key_spans):
            where[key] = doc.location(start, end)
    assert (where["beta"].file, where["beta"].line, where["beta"].column) == ("chapters/one.tex", 3, 21)
    assert (where["beta"].end_line, where["beta"].end_column) == (3, 25)
    one = (tmp_path / "chapters" / "one.tex").read_text(encoding="utf-8")
    assert one[where["beta"].offset : where["beta"].end_offset] == "beta"
    assert (where["delta"].file, where["delta"].line, where["delta"].column) == (str(main), 5, 23)
    assert doc.files == [str(main), "chapters/one.tex"]


def test_a_chapter_is_audited_as_part_of_its_root_document_with_its_unsaved_buffer(tmp_path: Path) -> None:
    _project(tmp_path)
    chapter = tmp_path / "chapters" / "one.tex"
    buffer = "% !TEX root = ../main.tex\nFirst line.\n  As shown by \\cite{beta, epsilon}.\n"
    doc = load_document(chapter, text=buffer)
    assert doc.root == tmp_path / "main.tex"
    assert [k for c in doc.cites for k in c.keys] == ["alpha", "beta", "epsilon", "gamma", "delta"]
    epsilon = doc.cites[1]
    loc = doc.location(*epsilon.key_spans[1])
    assert loc.file == str(chapter) and (loc.line, loc.column) == (3, 27)
    assert chapter.read_text(encoding="utf-8").count("epsilon") == 0  # the buffer was read, the file left alone


def test_a_buffer_without_a_file_is_one_document() -> None:
    doc = document_from_text("See \\cite{a}.\n\\nocite{b,*}\n", "<buffer>")
    assert [c.keys for c in doc.cites] == [("a",)]
    assert [c.keys for c in doc.nocites] == [("b", "*")]
    loc = doc.location(*doc.cites[0].key_spans[0])
    assert (loc.file, loc.line, loc.column, loc.end_column) == ("<buffer>", 1, 11, 12)
