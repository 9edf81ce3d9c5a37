"""A seeded, bounded mutation fuzz over real bibliographies and papers from ../shared/bench (issue #11).

Why a mutation corpus rather than random text: real files carry the structures that break parsers (``@string``,
``#``, nested braces, accents, comments), and the question is what one slip costs. For every mutation the
promise is the same: no traceback (only ``BibliographyError``/``LatexInputError``, which name file and line),
every problem has a line, every entry the mutation did not touch is still citable by its exact key, and every
key the index proposes is byte-identical to the file. Seeds are fixed, so a failure reproduces; the whole suite
runs in a few seconds.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from startref.citations.bibindex import BibIndex, clear_cache, load_bibliography, parse_bib_text
from startref.citations.errors import BibliographyError
from startref.latex.cites import find_cites
from startref.latex.commands import syntax_with_user_wrappers
from startref.latex.context import cursor_context
from startref.latex.discovery import discover_bibliographies
from startref.latex.errors import LatexInputError
from startref.latex.placeholders import find_placeholders
from startref.latex.source import decode_tex_bytes

PAPERS = Path(__file__).resolve().parents[2] / ".." / "shared" / "bench" / "papers"
BIBS = [
    "153957__phd_thesis/articles/2_station/2_station.bib",
    "forgi86__dynonet/doc/paper/ms.bib",
    "eggplantbren__DNest4/paper/ref.bib",
    "txa__substitution/local.bib",
    "lh3__minimap2/tex/minimap2.bib",
    "AliaumeL__word-ordering-wqo/papers.bib",
]
TEXS = ["lh3__minimap2/tex/minimap2.tex", "eggplantbren__DNest4/paper/ms.tex"]
SEED = 20261129
ROUNDS = 3  # random offsets per mutation and file

#: A mutation takes (original bytes, rng) and returns (mutated bytes, the 1-based original lines it touched,
#: or None when it touches none). Entries whose span meets a touched line may be lost; all others must survive.
Mutation = Callable[[bytes, random.Random], tuple[bytes, set[int] | None]]


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def truncate(data: bytes, rng: random.Random) -> tuple[bytes, set[int]]:
    cut = rng.randrange(len(data))
    return data[:cut], set(range(_line_of(data, cut), data.count(b"\n") + 2))


def delete_brace(data: bytes, rng: random.Random) -> tuple[bytes, set[int]]:
    braces = [i for i, b in enumerate(data) if b in b"{}"]
    i = rng.choice(braces)
    return data[:i] + data[i + 1:], {_line_of(data, i)}


def binary_junk(data: bytes, rng: random.Random) -> tuple[bytes, set[int]]:
    at = rng.randrange(len(data))
    junk = rng.randbytes(rng.randrange(16, 800))
    return data[:at] + junk + data[at:], {_line_of(data, at)}


def latin1_byte(data: bytes, rng: random.Random) -> tuple[bytes, set[int]]:
    at = rng.randrange(len(data))
    return data[:at] + b"\xe9" + data[at:], {_line_of(data, at)}


def bom_and_crlf(data: bytes, rng: random.Random) -> tuple[bytes, None]:
    return b"\xef\xbb\xbf" + data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"), None


def huge_line(data: bytes, rng: random.Random) -> tuple[bytes, None]:
    starts = [i for i in range(len(data)) if data.startswith(b"\n@", i)]
    at = rng.choice(starts) + 1 if starts else 0
    return data[:at] + b"Stray text between entries. " * 40_000 + b"\n" + data[at:], None


def string_and_concat(data: bytes, rng: random.Random) -> tuple[bytes, None]:
    extra = (b'@string{fzjournal = "Journal of Fuzzing"}\n'
             b'@article{fuzz2026concat, title = "Made of " # fzjournal # {, parts}, year = 2026}\n')
    return extra + data, None


MUTATIONS: dict[str, Mutation] = {
    "truncate": truncate,
    "delete_brace": delete_brace,
    "binary_junk": binary_junk,
    "latin1_byte": latin1_byte,
    "bom_crlf": bom_and_crlf,
    "huge_line": huge_line,
    "string_concat": string_and_concat,
}


@pytest.fixture(scope="module")
def originals() -> dict[str, tuple[bytes, BibIndex]]:
    out = {}
    for rel in BIBS:
        path = PAPERS / rel
        out[rel] = (path.read_bytes(), load_bibliography([path]))
    return out


def _spans(index: BibIndex) -> dict[str, tuple[int, int]]:
    """Each entry's original line span: from its line to the line before the next entry (conservative)."""
    ordered = sorted(index.entries, key=lambda e: e.line)
    return {e.key: (e.line, (ordered[i + 1].line - 1) if i + 1 < len(ordered) else 10**9)
            for i, e in enumerate(ordered)}


def _check(index: BibIndex, keys_must_survive: set[str], haystack: bytes | str) -> None:
    for problem in index.problems:
        assert problem.line >= 1 or problem.kind in ("bad_crossref",), problem
    for key in keys_must_survive:
        found = index.get(key)
        assert found is not None and found.key == key, f"good entry {key!r} lost"
    for entry in index.entries:  # nothing garbled: every proposed key stands in the file exactly
        needle = entry.key.encode("utf-8") if isinstance(haystack, bytes) else entry.key
        assert needle in haystack, entry.key


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_bib_mutations(name: str, originals: dict[str, tuple[bytes, BibIndex]], tmp_path: Path) -> None:
    rng = random.Random(f"{SEED}:{name}")
    for rel, (data, index) in originals.items():
        spans = _spans(index)
        duplicated = {p.key for p in index.problems if p.kind == "duplicate_key"}
        for round_ in range(ROUNDS if name not in ("bom_crlf", "string_concat") else 1):
            mutated, touched = MUTATIONS[name](data, rng)
            survivors = {k for k, (lo, hi) in spans.items()
                         if k not in duplicated and (touched is None or not any(lo <= t <= hi for t in touched))}
            path = tmp_path / f"{round_}-{Path(rel).name}"
            path.write_bytes(mutated)
            clear_cache()
            try:
                result = load_bibliography([path])
            except BibliographyError as err:  # only a file that is nothing but junk may be refused
                assert str(err).startswith(str(path)) and not survivors, (rel, name, str(err))
                continue
            _check(result, survivors, mutated)
            if name == "string_concat":
                assert result.get("fuzz2026concat").fields["title"] == "Made of Journal of Fuzzing, parts"


@pytest.mark.parametrize("name", ["binary_junk", "delete_brace", "truncate"])
def test_bib_text_mutations_with_lone_surrogates(name: str, originals: dict[str, tuple[bytes, BibIndex]]) -> None:
    """The same rule for a bibliography sent as text (bib_text), including lone surrogates at random places."""
    rng = random.Random(f"{SEED}:text:{name}")
    for rel, (data, index) in originals.items():
        spans = _spans(index)
        duplicated = {p.key for p in index.problems if p.kind == "duplicate_key"}
        mutated, touched = MUTATIONS[name](data, rng)
        text = mutated.decode("utf-8", "replace")
        at = rng.randrange(len(text))
        text = text[:at] + "\udc80" + text[at:]
        touched = (touched or set()) | {text.count("\n", 0, at) + 1 - (0 if name != "binary_junk" else 0)}
        if name == "binary_junk":  # junk may contain newlines: compare lines in the original only before it
            touched |= set(range(min(touched), min(touched) + 8))
        survivors = {k for k, (lo, hi) in spans.items()
                     if k not in duplicated and not any(lo <= t <= hi for t in touched)}
        try:
            result = parse_bib_text(text, "<bib_text>")
        except BibliographyError:
            assert not survivors
            continue
        _check(result, survivors, text)


def test_duplicate_and_case_only_keys(originals: dict[str, tuple[bytes, BibIndex]], tmp_path: Path) -> None:
    rng = random.Random(f"{SEED}:dups")
    for rel, (data, index) in originals.items():
        entry = rng.choice([e for e in index.entries if e.key.lower() != e.key.upper()])
        swapped = entry.key.swapcase()
        text = data.decode("utf-8")
        lines = text.split("\n")
        block = "\n".join(lines[entry.line - 1: _spans(index)[entry.key][1]])
        path = tmp_path / Path(rel).name
        path.write_text(text + "\n" + block + "\n" + block.replace(entry.key, swapped, 1) + "\n", encoding="utf-8")
        clear_cache()
        result = load_bibliography([path])
        assert result.get(entry.key).line == entry.line  # the first definition wins
        assert result.get(swapped).key == swapped  # case-only: kept, citable exactly, and reported
        kinds = {(p.kind, p.key) for p in result.problems}
        assert ("duplicate_key", entry.key) in kinds and ("duplicate_key_case", swapped) in kinds


def test_fifos_and_symlink_loops_named_by_a_document(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.bib")
    (tmp_path / "loop.bib").symlink_to(tmp_path / "loop.bib")
    (tmp_path / "good.bib").write_text("@misc{good, title = {Good}}\n")
    doc = tmp_path / "paper.tex"
    doc.write_text("\\bibliography{pipe,loop,good}\n\\input{loop}\n")
    outcome: list[object] = []

    def run() -> None:
        found = discover_bibliographies(doc)
        outcome.append(found)
        outcome.append(load_bibliography(found.files))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(20)
    if worker.is_alive():
        with open(tmp_path / "pipe.bib", "wb"):
            pass
        pytest.fail("discovery or loading blocked")
    found, index = outcome
    assert [p.name for p in found.files] == ["good.bib"] and set(found.missing) == {"pipe", "loop"}
    assert index.keys() == ["good"]


@pytest.mark.parametrize("rel", TEXS)
def test_tex_mutations_never_raise_a_traceback(rel: str) -> None:
    data = (PAPERS / rel).read_bytes()
    rng = random.Random(f"{SEED}:{rel}")
    cases = [data[: rng.randrange(len(data))] for _ in range(3)]
    cases += [binary_junk(data, rng)[0] for _ in range(3)]
    cases += [delete_brace(data, rng)[0] for _ in range(3)]
    cases += [latin1_byte(data, rng)[0], bom_and_crlf(data, rng)[0], data.replace(b"\n", b" ")]
    for mutated in cases:
        try:
            text, _encoding, _warnings = decode_tex_bytes(mutated, rel)
        except LatexInputError as err:
            assert err.code == "binary_input" and err.line and str(err).startswith(f"{rel}:{err.line}:")
            continue
        syntax = syntax_with_user_wrappers(text)
        cites = find_cites(text, syntax)
        for cursor in (0, len(text) // 2, len(text)):
            cursor_context(text, cursor, syntax, cites=cites)
        find_placeholders(text)


def test_the_fuzz_has_teeth(originals: dict[str, tuple[bytes, BibIndex]]) -> None:
    """The corpus is real and large enough that the survivor checks above check something."""
    assert sum(len(index) for _data, index in originals.values()) > 150
    data, index = originals[BIBS[0]]
    mutated, touched = binary_junk(data, random.Random(1))
    spans = _spans(index)
    assert touched and sum(1 for lo, hi in spans.values() if not any(lo <= t <= hi for t in touched)) > 10
