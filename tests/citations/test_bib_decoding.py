"""Decoding and junk in .bib files: a bad byte or a binary block costs only its own line, never a key's bytes."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from startref.citations.bibindex import clear_cache, describe_index, load_bibliography, parse_bib_text
from startref.citations.errors import BibliographyError

GOOD = (
    "@article{Schönrich2009,\n  title = {Galactic chemical evolution},\n  author = {Schönrich, Ralph},\n"
    "  year = {2009}\n}\n"
    "@article{plain2010,\n  title = {A plain entry},\n  year = {2010}\n}\n"
)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    clear_cache()


def _keys_are_in_file(index, data: bytes) -> None:
    for entry in index.entries:
        assert entry.key.encode("utf-8") in data, entry.key


def test_one_latin1_byte_garbles_nothing_else(tmp_path: Path) -> None:
    data = GOOD.encode() + b"@misc{stray,\n  title = {Caf\xe9 culture},\n}\n"
    path = tmp_path / "refs.bib"
    path.write_bytes(data)
    index = load_bibliography([path])
    assert index.get("Schönrich2009") is not None and index.get("Schönrich2009").key == "Schönrich2009"
    assert index.get("Schönrich2009").authors == ("Schönrich",)
    assert index.get("stray").title == "Café culture"
    assert [(p.line, p.kind) for p in index.problems] == [(11, "decoding")]
    _keys_are_in_file(index, data)


def test_a_non_utf8_key_is_never_proposed(tmp_path: Path) -> None:
    data = GOOD.encode() + b"@misc{M\xfcller2001,\n  title = {Latin-1 key},\n}\n"
    path = tmp_path / "refs.bib"
    path.write_bytes(data)
    index = load_bibliography([path])
    assert sorted(index.keys()) == ["Schönrich2009", "plain2010"]
    kinds = {(p.line, p.kind) for p in index.problems}
    assert (10, "decoding") in kinds
    assert any("Müller2001" in p.message and "skipped" in p.message for p in index.problems)


@pytest.mark.parametrize("offset", [0, 40, 70_000])
def test_binary_junk_is_a_problem_with_its_line_wherever_it_sits(tmp_path: Path, offset: int) -> None:
    padding = "".join(f"@misc{{pad{i}, title = {{Padding entry {i}}}}}\n" for i in range(offset // 40))
    head = padding if offset >= 1000 else ""
    junk = bytes(range(256)) * 4
    data = head.encode() + junk + b"\n" + GOOD.encode()
    path = tmp_path / "refs.bib"
    path.write_bytes(data)
    index = load_bibliography([path])
    for key in ("Schönrich2009", "plain2010"):
        assert index.get(key) is not None and index.get(key).key == key
    junk_problems = [p for p in index.problems if p.kind == "binary_data"]
    assert junk_problems and junk_problems[0].line == head.count("\n") + 1
    _keys_are_in_file(index, data)
    # the same bytes sent as text (bib_text) follow the same rule: no garbage entries
    inline = parse_bib_text(data.decode("latin-1"))
    assert sorted(inline.keys()) == sorted(e.key.encode().decode("latin-1") for e in index.entries)
    assert [p.line for p in inline.problems if p.kind == "binary_data"] == [p.line for p in junk_problems]


def test_nothing_but_junk_is_not_a_bibliography(tmp_path: Path) -> None:
    path = tmp_path / "junk.bib"
    path.write_bytes(b"\x00\x01\x02PNG" * 100)
    with pytest.raises(BibliographyError, match="binary"):
        load_bibliography([path])


def test_a_single_stray_control_character_keeps_its_line() -> None:
    index = parse_bib_text("@article{a,\n  author = {G{\x0b{Z}}, Anna},\n  title = {Kept}\n}\n")
    assert index.get("a").authors and not index.problems


def test_lone_surrogates_in_text_are_junk_not_a_crash() -> None:
    index = parse_bib_text(GOOD + "@misc{bad,\n  title = {X \udc80 Y}\n}\n")
    assert {"Schönrich2009", "plain2010"} <= set(index.keys())
    assert any(p.kind == "binary_data" and p.line == 11 for p in index.problems)
    assert index.fingerprint  # hashing no longer fails


def test_keys_differing_only_in_case_are_reported_and_both_citable() -> None:
    index = parse_bib_text("@misc{Smith2020, title={One}}\n@misc{smith2020, title={Two}}\n")
    assert index.get("Smith2020").title == "One" and index.get("smith2020").title == "Two"
    [problem] = index.problems
    assert (problem.kind, problem.line, problem.key) == ("duplicate_key_case", 2, "smith2020")


def test_line_numbers_after_a_backslash_newline() -> None:
    text = "@misc{a,\n  title = {Ends with a control space\\\n  here}\n}\n@misc{b, title = {B}}\n"
    index = parse_bib_text(text)
    assert index.get("b").line == 5


def test_index_json_shows_whole_duplicate_keys() -> None:
    index = parse_bib_text("@misc{o'brien2020, title={A}}\n@misc{o'brien2020, title={B}}\n")
    assert describe_index(index)["duplicate_keys"] == ["o'brien2020"]


def test_fifo_and_symlink_loop_are_named_not_hung(tmp_path: Path) -> None:
    fifo = tmp_path / "f.bib"
    os.mkfifo(fifo)
    errors: list[BaseException] = []

    def load() -> None:
        try:
            load_bibliography([fifo])
        except BibliographyError as err:
            errors.append(err)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():
        with open(fifo, "wb"):
            pass
        pytest.fail("load_bibliography blocked on a FIFO")
    assert errors and errors[0].code == "bibliography_unreadable" and "FIFO" in str(errors[0])
    loop = tmp_path / "loop.bib"
    loop.symlink_to(loop)
    with pytest.raises(BibliographyError) as info:
        load_bibliography([loop])
    assert "loop" in str(info.value) and "not found" not in str(info.value)
