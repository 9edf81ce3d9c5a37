"""Appending library entries to real .bib files: bytes before the end never change, the file's encoding, line
endings, field style and @string macros are kept, nothing is added twice, and a SIGKILL mid-write leaves the old
file or the new one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from startref.citations.bibindex import Entry, clear_cache, load_bibliography, parse_bib_text
from startref.citations.library import BibEdit, apply_append, plan_append, read_target
from startref.citations.library.bibtex import detect_style

BENCH = Path(__file__).resolve().parents[3] / "shared" / "bench" / "papers"
CRLF_BIB = "eggplantbren__DNest4/paper/ref.bib"  # a real .bib with CRLF line endings
STRING_BIB = "VatsalSy__DropImpact_PRL_arXiv/refs.bib"  # a real .bib with 44 @string macros
UTF8_BIB = "AliaumeL__word-ordering-wqo/papers.bib"  # real non-ASCII names (re-encoded to Latin-1 below)
PLAIN_BIB = "lh3__minimap2/tex/minimap2.bib"


def _entry(text: str) -> Entry:
    return parse_bib_text(text, "<library>").entries[0]


NEW = _entry("""@article{lukasiewicz2021new,
  author = {{\\L}ukasiewicz, Jan and M{\\"u}ller, J{\\"o}rg},
  title = {A Genuinely New Result on Łukasiewicz Logics for Testing},
  journal = {Journal of Tests},
  year = {2021},
  doi = {10.9999/startref.test.2021}
}""")


def _copy(tmp_path: Path, rel: str, name: str = "refs.bib") -> Path:
    src = BENCH / rel
    assert src.is_file(), f"real .bib missing: {src}"
    out = tmp_path / name
    out.write_bytes(src.read_bytes())
    return out


def _append(path: Path, entry: Entry = NEW, key: str | None = None) -> tuple[bytes, bytes, BibEdit]:
    before = path.read_bytes()
    edit = plan_append(read_target(path), [(key or entry.key, entry)])
    assert edit is not None
    apply_append(path, edit)
    clear_cache()
    return before, path.read_bytes(), edit


def test_crlf_file_keeps_its_bytes_and_line_endings(tmp_path: Path) -> None:
    path = _copy(tmp_path, CRLF_BIB)
    before, after, edit = _append(path)
    assert b"\r\n" in before and after.startswith(before)
    added = after[len(before):]
    assert added.count(b"\r\n") == added.count(b"\n") > 5, "the appended entry uses the file's CRLF endings"
    index = load_bibliography([path])
    assert index.get("lukasiewicz2021new") is not None
    assert len(index) == len(load_bibliography([_copy(tmp_path, CRLF_BIB, "orig.bib")])) + 1
    assert (edit.line, edit.character) == (before.count(b"\n"), 0)


def test_latin1_file_stays_latin1_and_gets_latex_for_what_latin1_cannot_hold(tmp_path: Path) -> None:
    text = (BENCH / UTF8_BIB).read_text(encoding="utf-8")
    assert any(ord(ch) > 127 for ch in text)
    latin = tmp_path / "refs.bib"
    latin.write_bytes(text.encode("latin-1", errors="replace"))
    before, after, _ = _append(latin)
    assert after.startswith(before)
    with pytest.raises(UnicodeDecodeError):
        after.decode("utf-8")
    added = after[len(before):].decode("latin-1")
    assert "{\\L}ukasiewicz" in added or "{\\L}" in added  # Ł is not Latin-1: written as LaTeX
    entry = load_bibliography([latin]).get("lukasiewicz2021new")
    assert entry is not None and entry.authors[0] == "Łukasiewicz"
    assert "Łukasiewicz" in entry.title


def test_string_macros_and_their_uses_are_untouched(tmp_path: Path) -> None:
    path = _copy(tmp_path, STRING_BIB)
    old = load_bibliography([path])
    assert any("@string" in line.lower() for line in path.read_text(encoding="utf-8").splitlines())
    before, after, _ = _append(path)
    assert after.startswith(before)
    new = load_bibliography([path])
    assert len(new) == len(old) + 1
    for e in old.entries:  # every old entry still reads the same (macros expanded as before)
        assert dict(new.get(e.key).fields) == dict(e.fields)  # type: ignore[union-attr]


def test_last_entry_without_final_newline(tmp_path: Path) -> None:
    path = _copy(tmp_path, PLAIN_BIB)
    path.write_bytes(path.read_bytes().rstrip())
    assert not path.read_bytes().endswith(b"\n")
    problems = [(p.line, p.kind) for p in load_bibliography([path]).problems]
    before, after, _ = _append(path)
    assert after.startswith(before)
    assert after[len(before):].startswith(b"\n\n@article{lukasiewicz2021new,")
    index = load_bibliography([path])
    assert index.get("lukasiewicz2021new") is not None
    assert [(p.line, p.kind) for p in index.problems] == problems  # the file's own problems, nothing new


def test_style_of_the_file_is_followed(tmp_path: Path) -> None:
    path = _copy(tmp_path, PLAIN_BIB)
    style = detect_style(path.read_text(encoding="utf-8"))
    _, after, edit = _append(path)
    first_field = edit.text.splitlines()[2]
    assert first_field.startswith(style.indent) and not first_field.startswith(style.indent + " ")


def test_nothing_is_added_twice(tmp_path: Path) -> None:
    path = _copy(tmp_path, PLAIN_BIB)
    _append(path)
    target = read_target(path)
    assert plan_append(target, [(NEW.key, NEW)]) is None  # same key
    assert plan_append(target, [("other2021key", NEW)]) is None  # same DOI under another key
    existing = load_bibliography([path]).entries[0]
    same_title = _entry(f"@misc{{x, title = {{{existing.fields['title']}}}, year = {{1999}}}}")
    if len(existing.title.split()) >= 3:
        assert plan_append(target, [("fresh1999key", same_title)]) is None  # same work, by its title


CHILD = textwrap.dedent("""
    import sys
    from startref.citations.library import apply_append, plan_append, read_target
    from startref.citations.bibindex import parse_bib_text
    path = sys.argv[1]
    big = parse_bib_text(open(sys.argv[2], encoding="utf-8").read(), "lib").entries
    edit = plan_append(read_target(path), [(e.key + "_new", e) for e in big])
    print("ready", flush=True)
    sys.stdin.readline()
    apply_append(path, edit)
    print("done", flush=True)
""")


def test_sigkill_during_the_write_leaves_the_old_or_the_new_file(tmp_path: Path) -> None:
    """A child appends ~all entries of a large real .bib (a few MB written) and is SIGKILLed at random moments
    during the write: the file is always exactly the old bytes or exactly old + the planned text."""
    library = BENCH / "econ-ark__HAFiscal-Public" / "HAFiscal.bib"
    assert library.is_file()
    outcomes = set()
    for attempt in range(8):
        path = _copy(tmp_path, PLAIN_BIB, f"refs{attempt}.bib")
        old = path.read_bytes()
        edit = plan_append(read_target(path), [(e.key + "_new", e) for e in load_bibliography([library]).entries])
        assert edit is not None
        new = old + edit.text.encode("utf-8")
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(library)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "ready"
        child.stdin.write("go\n")
        child.stdin.flush()
        time.sleep(0.002 * attempt)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        data = path.read_bytes()
        assert data in (old, new), f"attempt {attempt}: a partial file ({len(data)} bytes; old {len(old)}, new {len(new)})"
        outcomes.add("new" if data == new else "old")
    assert outcomes, outcomes
