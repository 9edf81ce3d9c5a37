"""A large library .bib parsed in parts on several processes gives exactly what one whole-file parse gives.

The library is real: the .bib files of 12 training papers, concatenated as a personal library is, with the hard
cases around the cut points added by hand: ``@string`` macros defined at the top and in the middle (used after a
cut), the same macro defined twice with the same value, duplicate keys in different parts, an unclosed entry just
before a block that starts a part, key-less entries in two parts, and a line that is not UTF-8.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

import startref.citations.bib_parallel as bib_parallel
import startref.citations.bibindex as bibindex
from startref.citations.bib_parallel import load_large_bibliography, split_points
from startref.citations.bibindex import BibIndex, clear_cache, load_bibliography


HEAD = b"@string{jml = {Journal of Machine Learning}}\n@string{june = {June}}\n\n"
MIDDLE = (b"@string{arx = {arXiv preprint}}\n@string{june = {June}}\n"
          b"@article{broken2019, title = {An entry never closed}, year = 2019,\n\n"
          b"@article{, title = {No key here}}\n")
TAIL = (b"@article{macrouser2020, title = {Uses macros}, journal = jml # { and } # arx, month = june}\n"
        b"@misc{latin2021, title = {Caf\xe9 society}, year = {2021}}\n"
        b"@article{, title = {No key either}}\n")


REPO = Path(__file__).resolve().parents[2]
TRAIN = Path(os.environ.get("STARTREF_SHARED", REPO.parent / "shared")).resolve() / "train" / "papers"


@pytest.fixture(scope="module")
def big_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bibs = sorted(TRAIN.glob("*/**/*.bib"))[:16]
    assert len(bibs) >= 12, "training papers' .bib files (set STARTREF_SHARED)"
    parts = [b.read_bytes() for b in bibs]
    half = len(parts) // 2
    # the first paper's .bib again at the end: every key of it is a duplicate in another part
    data = HEAD + b"\n".join(parts[:half]) + b"\n" + MIDDLE + b"\n".join(parts[half:]) + b"\n" + TAIL + parts[0]
    out = tmp_path_factory.mktemp("big") / "library.bib"
    out.write_bytes(data)
    return out


def _same(a: BibIndex, b: BibIndex) -> None:
    assert [e.key for e in a.entries] == [e.key for e in b.entries]
    for x, y in zip(a.entries, b.entries):
        assert x == y and dict(x.fields) == dict(y.fields), x.key  # decoded fields, line numbers, positions
    assert Counter(a.problems) == Counter(b.problems)


@pytest.fixture(scope="module")
def whole(big_library: Path) -> BibIndex:
    """The one-piece parse (``load_bibliography`` parses a big file named alone in parts: not for the reference)."""
    clear_cache()
    saved, bibindex._PARALLEL_MIN_BYTES = bibindex._PARALLEL_MIN_BYTES, 10**12
    try:
        return load_bibliography([big_library])
    finally:
        bibindex._PARALLEL_MIN_BYTES = saved
        clear_cache()


@pytest.mark.parametrize("workers", [2, 3])
def test_parts_parse_to_the_whole_files_index(big_library: Path, whole: BibIndex, workers: int,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bib_parallel, "PARALLEL_MIN_CHARS", 0)
    text = big_library.read_text(encoding="utf-8", errors="replace")
    cuts = split_points(text, workers)
    assert len(cuts) == workers and all(text[c:].lstrip(" \t").startswith("@") for c in cuts[1:])
    kinds = {p.kind for p in whole.problems}
    assert {"duplicate_key", "duplicate_string", "parse_error", "decoding"} <= kinds, kinds
    assert "missing_key" in kinds
    assert whole.get("macrouser2020").fields["journal"] == "Journal of Machine Learning and arXiv preprint"
    _same(whole, load_large_bibliography(big_library, workers))


def test_a_failing_child_falls_back_to_one_parse(big_library: Path, whole: BibIndex,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bib_parallel, "PARALLEL_MIN_CHARS", 0)
    monkeypatch.setattr(bib_parallel.sys, "executable", "/bin/false")  # the child exits 1 without output
    clear_cache()
    _same(whole, load_large_bibliography(big_library, 2))


def test_a_macro_defined_twice_differently_is_parsed_in_one_piece(big_library: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """BibTeX keeps a macro's first value; a part that redefined it would use its own, so no parts then."""
    monkeypatch.setattr(bib_parallel, "PARALLEL_MIN_CHARS", 0)
    data = big_library.read_bytes().replace(b"@string{june = {June}}\n@article{broken",
                                            b"@string{june = {Juni}}\n@article{broken")
    path = tmp_path / "conflict.bib"
    path.write_bytes(data)
    monkeypatch.setattr(bib_parallel, "_parse_parts", lambda *a: pytest.fail("parsed in parts"))
    clear_cache()
    _same(load_bibliography([path]), load_large_bibliography(path, 2))
    assert load_bibliography([path]).get("macrouser2020").fields["month"] == "June"


def test_load_bibliography_parses_a_big_file_named_alone_in_parts(big_library: Path, whole: BibIndex,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A paper's own big .bib (``\\bibliography{refs}`` naming a personal library) is parsed on every core by
    ``load_bibliography`` itself: the same index, kept for the next call; two files named together are not."""
    monkeypatch.setattr(bibindex, "_PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(bib_parallel, "PARALLEL_MIN_CHARS", 0)
    monkeypatch.setenv("STARTREF_INDEX_WORKERS", "2")
    calls: list[int] = []
    real = bib_parallel._parse_parts
    monkeypatch.setattr(bib_parallel, "_parse_parts", lambda *a: (calls.append(1), real(*a))[1])
    clear_cache()
    first = load_bibliography([big_library])
    assert calls == [1]
    _same(whole, first)
    assert load_bibliography([big_library]) is first and calls == [1]  # unchanged file: no second parse
    monkeypatch.setenv("STARTREF_INDEX_WORKERS", "1")  # one core: one piece
    clear_cache()
    _same(whole, load_bibliography([big_library]))
    assert calls == [1]
