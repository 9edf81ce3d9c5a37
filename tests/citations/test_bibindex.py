"""The bibliography index on real bibliographies (the bench papers) and on a fixture with every known mess."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from startref.citations import bibindex
from startref.citations.bibindex import (
    BibIndex,
    describe_index,
    load_bibliography,
    merge_indexes,
    parse_bib_text,
)
from startref.citations.errors import BibliographyError, StartrefError

DATA = Path(__file__).parent / "data"
MESSY = DATA / "messy.bib"


def _bench_bibs(bench_papers: Path) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for source in sorted(bench_papers.glob("*/SOURCE.txt")):
        text = source.read_text()
        block = re.search(r"^bib_files:\n((?:  .+\n)*)", text, re.MULTILINE)
        names = [line.strip() for line in block.group(1).splitlines()] if block else []
        manual = re.search(r"^bib_files_added_manually[^:]*:\s*(.+)$", text, re.MULTILINE)
        if manual:
            names += manual.group(1).split()
        out[source.parent.name] = [source.parent / n for n in names]
    return out


def test_every_bench_bibliography_loads(bench_papers: Path) -> None:
    bibs = _bench_bibs(bench_papers)
    assert len(bibs) == 20
    for paper, paths in bibs.items():
        assert paths, f"{paper}: SOURCE.txt lists no bib file"
        index = load_bibliography(paths)
        assert len(index) >= 10, paper
        assert len({e.key for e in index}) == len(index), f"{paper}: duplicate keys leaked into the index"
        assert [e.position for e in index] == list(range(len(index)))
        titled = sum(1 for e in index if e.title)
        assert titled >= 0.9 * len(index), f"{paper}: only {titled}/{len(index)} entries have a title"
        for problem in index.problems:
            assert problem.line >= 1 and problem.file in {str(p) for p in paths}, problem


def test_real_duplicate_keys_keep_the_first(bench_papers: Path) -> None:
    path = bench_papers / "Bihaqo__thesis/biblio/othercites.bib"
    index = load_bibliography([path])
    dups = [(p.line, p.message.split("'")[1]) for p in index.problems if p.kind == "duplicate_key"]
    assert dups == [(146, "titsias2009"), (679, "song13"), (774, "oseledets2011ttMain")]
    assert index.get("titsias2009").line == 85
    # entries commented out line by line with % (biber's reading) are not offered for citation
    assert index.get("Sychev") is None


def test_real_missing_key_and_bad_crossref(bench_papers: Path) -> None:
    sympy = load_bibliography([bench_papers / "sympy__sympy-paper/paper.bib"])
    assert [(p.line, p.kind) for p in sympy.problems if p.kind == "missing_key"] == [(2, "missing_key")]
    minimap = load_bibliography([bench_papers / "lh3__minimap2/tex/minimap2.bib"])
    bad = [p for p in minimap.problems if p.kind == "bad_crossref"]
    assert [(p.line, "DBLP:conf/wabi/2003" in p.message) for p in bad] == [(394, True)]


def test_messy_fixture_keeps_every_good_entry() -> None:
    index = load_bibliography([MESSY])
    assert index.keys() == ["mueller2020", "concat2021", "broken2019", "after2020", "notitle", "child2005",
                            "parent2005", "orphan", "undefmacro", "commented"]
    problems = {(p.line, p.kind) for p in index.problems}
    assert problems == {(26, "missing_key"), (30, "parse_error"), (43, "duplicate_key"), (47, "empty_title"),
                        (64, "bad_crossref"), (71, "undefined_string")}
    assert all(str(p).startswith(f"{MESSY}:{p.line}: ") for p in index.problems)


def test_messy_fixture_fields() -> None:
    index = load_bibliography([MESSY])
    m = index.get("mueller2020")
    assert m.title == "Über BERT: Attention in Schön Models"
    assert m.fields["title"] == r"{\"U}ber {BERT}: Attention in Sch\"{o}n Models"  # raw kept for display
    assert m.authors == ("Müller", "van der Berg", "NASA Collaboration")
    assert m.author_text == "Müller, van der Berg, NASA Collaboration" and m.display_authors == "Müller et al."
    assert m.venue == "Journal of Machine Learning Research" and m.fields["month"] == "January"
    assert m.year == "2020" and m.doi == "10.1234/abc.5678" and m.line == 7
    assert index.get("MUELLER2020") is m and index.get("Mueller20") is m and index.get("mueller2020old") is m
    assert index.by_doi("https://doi.org/10.1234/abc.5678") is m
    c = index.get("concat2021")
    assert c.venue == "Proceedings of the Thirty-Eighth Conference on Things"
    assert c.arxiv_id == "2101.00001" and index.by_arxiv("arXiv:2101.00001v1") is c
    assert index.get("after2020").arxiv_id == "2003.12345"
    assert index.get("commented").title == "Has a Commented-Out Field"
    assert index.by_arxiv("hep-th/9901001") is index.get("commented")
    child = index.get("child2005")
    assert child.venue == "Proceedings of the Parent Conference" and child.year == "2005"
    assert child.fields["publisher"] == "Parent Press"
    assert index.get("broken2019").title.startswith("Unbalanced")
    assert index.get("notitle").title == "" and index.get("nope") is None


def test_strings_from_an_earlier_file_are_inherited(tmp_path: Path) -> None:
    abbrev = tmp_path / "abbrev.bib"
    refs = tmp_path / "refs.bib"
    abbrev.write_text('@string{IEEE_TPAMI = "IEEE Trans. Pattern Anal."}\n')
    refs.write_text("@article{a, title = {T}, journal = IEEE_TPAMI}\n")
    index = load_bibliography([abbrev, refs])
    assert index.get("a").venue == "IEEE Trans. Pattern Anal." and not index.problems
    alone = load_bibliography([refs])
    assert [p.kind for p in alone.problems] == ["undefined_string"]


def test_duplicate_key_across_files_keeps_first(tmp_path: Path) -> None:
    a, b = tmp_path / "a.bib", tmp_path / "b.bib"
    a.write_text("@article{k, title = {First}}\n")
    b.write_text("\n\n@article{k, title = {Second}}\n@article{z, title = {Zed}}\n")
    index = load_bibliography([a, b])
    assert index.get("k").title == "First" and index.keys() == ["k", "z"]
    assert [(p.file, p.line, p.kind) for p in index.problems] == [(str(b), 3, "duplicate_key")]
    assert merge_indexes([load_bibliography([b]), load_bibliography([a])]).get("k").title == "Second"


def test_bad_files_raise_naming_the_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bib"
    junk.write_bytes(bytes(range(256)) * 10)
    for path, words in [(tmp_path / "missing.bib", "not found"), (tmp_path, "directory"), (junk, "binary")]:
        with pytest.raises(BibliographyError) as info:
            load_bibliography([path])
        assert str(info.value).startswith(str(path)) and words in str(info.value)
        assert isinstance(info.value, StartrefError) and info.value.exit_code == 2


def test_empty_and_latin1_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.bib"
    empty.write_text("")
    assert len(load_bibliography([empty])) == 0 and not load_bibliography([empty]).problems
    latin = tmp_path / "latin.bib"
    latin.write_bytes("@article{x,\n  title = {Caf\u00e9 Society},\n}\n".encode("latin-1"))
    index = load_bibliography([latin])
    assert index.get("x").title == "Café Society"
    assert [(p.line, p.kind) for p in index.problems] == [(2, "decoding")]


def test_cache_hit_and_invalidation(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    path.write_text("@article{a, title = {One}}\n")
    first = load_bibliography([path])
    parses = bibindex.parse_count
    assert load_bibliography([path]) is first and load_bibliography([str(path)]) is first
    assert bibindex.parse_count == parses
    path.write_text("@article{a, title = {Two}}\n")  # same size: only mtime differs
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    second = load_bibliography([path])
    assert second is not first and second.get("a").title == "Two" and bibindex.parse_count == parses + 1
    assert second.fingerprint != first.fingerprint


def test_parse_bib_text_and_fingerprint() -> None:
    text = MESSY.read_text()
    inline = parse_bib_text(text, name="editor-buffer")
    assert parse_bib_text(text, name="editor-buffer") is inline
    assert inline.keys() == load_bibliography([MESSY]).keys()
    assert inline.fingerprint == load_bibliography([MESSY]).fingerprint  # content, not location
    assert inline.problems[0].file == "editor-buffer"
    assert len(parse_bib_text("")) == 0


def test_describe_index() -> None:
    summary = describe_index(load_bibliography([MESSY]))
    assert summary["entries"] == 10 and summary["duplicate_keys"] == ["mueller2020"]
    assert summary["problem_counts"]["parse_error"] == 1 and summary["with_arxiv"] == 3
    assert {"file", "line", "kind", "message"} <= set(summary["problems"][0])


def test_five_megabyte_bibliography(bench_papers: Path, tmp_path: Path) -> None:
    sources = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(bench_papers.rglob("*.bib"))]
    parts: list[str] = []
    size = copy = 0
    while size < 5_000_000:
        for i, text in enumerate(sources):
            tagged = re.sub(r"(@\w+\s*\{\s*)([^,\s{}]+)\s*,", lambda m: f"{m.group(1)}c{copy}f{i}_{m.group(2)},", text)
            parts.append(tagged)
            size += len(tagged)
        copy += 1
    big = tmp_path / "big.bib"
    big.write_text("".join(parts))
    start = time.perf_counter()
    index = load_bibliography([big])
    elapsed = time.perf_counter() - start
    print(f"\n5 MB bib: {big.stat().st_size / 1e6:.1f} MB, {len(index)} entries, {len(index.problems)} problems, "
          f"loaded in {elapsed:.2f} s")
    assert len(index) > 8000
    start = time.perf_counter()
    assert load_bibliography([big]) is index
    assert time.perf_counter() - start < 0.5
    assert isinstance(index, BibIndex)
