"""``startref annotate`` on real bench papers: byte identity outside the edits, idempotence, ``.bak``,
``--dry-run``, CRLF and latin-1 kept as they are."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from startref.citations.bibindex import load_bibliography
from startref.cli.main import main

CRLF_PAPER = ("eggplantbren__DNest4", "paper", "ms.tex", "ref.bib")  # ASCII with CRLF line endings
LF_PAPER = ("lh3__minimap2", "tex", "minimap2.tex", "minimap2.bib")

# (existing citation in the paper, placeholder it becomes); both papers use natbib-style commands
CRLF_PLACEHOLDERS = [
    (b"\\citep{feroz2009multinest}", b"\\citep{?}"),
    (b"\\citep{handley2015polychord}", b"\\citep{}"),
]

# what a filled placeholder may look like: a cite command with one or more keys (and an optional keep-k comment)
FILLED = rb"\\[A-Za-z]*cite[A-Za-z]*\*?(?:\[[^\]]*\])*\{[^{}?]+\}"


def _copy(bench_papers: Path, tmp_path: Path, paper: tuple[str, str, str, str]) -> tuple[Path, Path]:
    name, folder, tex, bib = paper
    target = tmp_path / name
    shutil.copytree(bench_papers / name / folder, target)
    return target / tex, target / bib


def _plant(tex: Path, replacements: list[tuple[bytes, bytes]], prefix: bytes = b"") -> bytes:
    """Turn existing citations into placeholders (first occurrence each); returns the new bytes."""
    data = tex.read_bytes()
    for old, new in replacements:
        assert old in data, old
        data = data.replace(old, new, 1)
    data = prefix + data
    tex.write_bytes(data)
    return data


def _assert_identical_outside_edits(original: bytes, output: bytes, placeholders: list[bytes]) -> list[bytes]:
    """The output is the original with each placeholder replaced by a cite command, and nothing else changed."""
    splitter = re.compile(b"(" + b"|".join(re.escape(p) for p in placeholders) + b")")
    parts = splitter.split(original)
    segments = parts[0::2]
    assert len(segments) - 1 == len(placeholders)
    pattern = b"(" + FILLED + b")"
    full = pattern.join(re.escape(seg) for seg in segments)
    match = re.fullmatch(full, output, flags=re.DOTALL)
    assert match is not None, "output differs from the input outside the edits"
    # the prefix before the first edit and the suffix after the last are byte-identical
    assert output.startswith(segments[0]) and output.endswith(segments[-1])
    return list(match.groups())


def test_annotate_output_is_byte_identical_outside_edits_and_keeps_crlf(
    bench_papers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tex, bib = _copy(bench_papers, tmp_path, CRLF_PAPER)
    original = _plant(tex, CRLF_PLACEHOLDERS)
    out = tmp_path / "annotated.tex"
    assert main(["annotate", str(tex), "-o", str(out), "--no-generator"]) == 0
    assert tex.read_bytes() == original  # -o never touches the input
    written = out.read_bytes()
    fills = _assert_identical_outside_edits(original, written, [new for _, new in CRLF_PLACEHOLDERS])
    keys = set(load_bibliography([bib]).keys())
    for fill in fills:
        inner = fill.decode()[fill.decode().index("{") + 1 : -1]
        assert all(k.strip() in keys for k in inner.split(","))
    assert written.count(b"\r\n") == original.count(b"\r\n")
    assert written.count(b"\n") == original.count(b"\n")
    # a summary line per edit, with the real line number of the placeholder
    stdout = capsys.readouterr().out
    for _, placeholder in CRLF_PLACEHOLDERS:
        line = original[: original.index(placeholder)].count(b"\n") + 1
        assert f"{tex}:{line}: {placeholder.decode()} -> \\" in stdout
    assert f"wrote {out}" in stdout


def test_in_place_keeps_bak_and_second_run_changes_nothing(
    bench_papers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tex, _ = _copy(bench_papers, tmp_path, LF_PAPER)
    original = _plant(tex, [(b"\\citep{Li:2016aa}", b"\\citep{?}")])
    assert main(["annotate", str(tex), "--in-place", "--no-generator"]) == 0
    backup = tex.with_name(tex.name + ".bak")
    assert backup.read_bytes() == original
    first = tex.read_bytes()
    assert first != original
    assert b"{?}" not in first
    capsys.readouterr()
    stamp = tex.stat().st_mtime_ns
    # idempotent: nothing left to fill, nothing written, the .bak still holds the original
    assert main(["annotate", str(tex), "--in-place", "--no-generator"]) == 0
    assert "no citation placeholder found; nothing written" in capsys.readouterr().err
    assert tex.read_bytes() == first
    assert tex.stat().st_mtime_ns == stamp
    assert backup.read_bytes() == original
    assert not [p for p in tex.parent.iterdir() if "startref-tmp" in p.name]


def test_dry_run_prints_a_diff_and_writes_nothing(
    bench_papers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tex, _ = _copy(bench_papers, tmp_path, CRLF_PAPER)
    original = _plant(tex, CRLF_PLACEHOLDERS)
    listing = sorted(p.name for p in tex.parent.iterdir())
    assert main(["annotate", str(tex), "--in-place", "--dry-run", "--no-generator"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"--- a/{tex}\n+++ b/{tex}\n")
    removed = [line for line in captured.out.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line for line in captured.out.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert len(removed) == len(added) == 2
    assert "\\citep{?}" in removed[0] + removed[1]
    assert "dry run: 2 placeholder(s) would be filled; nothing written" in captured.err
    assert tex.read_bytes() == original
    assert sorted(p.name for p in tex.parent.iterdir()) == listing


def test_latin1_file_stays_latin1(bench_papers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tex, _ = _copy(bench_papers, tmp_path, CRLF_PAPER)
    original = _plant(tex, CRLF_PLACEHOLDERS, prefix=b"% R\xe9sum\xe9 of the na\xefve approach\r\n")
    out = tmp_path / "out.tex"
    assert main(["annotate", str(tex), "-o", str(out), "--no-generator"]) == 0
    assert "latin-1" in capsys.readouterr().err
    written = out.read_bytes()
    assert written.startswith(b"% R\xe9sum\xe9 of the na\xefve approach\r\n")
    _assert_identical_outside_edits(original, written, [new for _, new in CRLF_PLACEHOLDERS])


def test_no_placeholder_writes_nothing(bench_papers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tex, _ = _copy(bench_papers, tmp_path, CRLF_PAPER)
    out = tmp_path / "out.tex"
    assert main(["annotate", str(tex), "-o", str(out), "--no-generator"]) == 0
    assert not out.exists()
    assert "no citation placeholder found" in capsys.readouterr().err


def test_json_reports_edits(bench_papers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tex, bib = _copy(bench_papers, tmp_path, CRLF_PAPER)
    original = _plant(tex, CRLF_PLACEHOLDERS + [(b"\\citep{emcee}", b"[CITATION]")])
    out = tmp_path / "out.tex"
    assert main(["annotate", str(tex), "-o", str(out), "--json", "--no-generator", "--bib", str(bib)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["output"] == str(out) and report["backup"] is None and report["dry_run"] is False
    assert [e["old"] for e in report["edits"]] == ["\\citep{?}", "\\citep{}", "[CITATION]"]
    for edit in report["edits"]:
        assert edit["line"] == original[: original.index(edit["old"].encode())].count(b"\n") + 1
        assert edit["candidates"], edit
    assert report["bibliography"]["entries"] > 0
    assert out.read_bytes().count(b"\r\n") == original.count(b"\r\n")


def test_keep_k_adds_a_comment_with_runners_up(bench_papers: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    tex, _ = _copy(bench_papers, tmp_path, CRLF_PAPER)
    original = _plant(tex, CRLF_PLACEHOLDERS[:1])
    out = tmp_path / "out.tex"
    assert main(["annotate", str(tex), "-o", str(out), "--keep-k", "2", "--json", "--no-generator"]) == 0
    report = json.loads(capsys.readouterr().out)
    written = out.read_bytes()
    (edit,) = report["edits"]
    keys = [c["key"] for c in edit["candidates"]][:2]
    assert len(keys) == 2
    comment_line = next(line for line in written.split(b"\r\n") if b"% startref: " in line)
    assert all(k.encode() in comment_line for k in keys)
    assert written.count(b"\r\n") == original.count(b"\r\n")
    head = original[: original.index(b"\\citep{?}")]
    assert written.startswith(head)
