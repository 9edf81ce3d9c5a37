"""Atomic writes and exact round-trips: the two guarantees ``annotate --in-place`` rests on."""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

import pytest

from startref.fileio import ExactText, atomic_write_bytes, decode_exact


def test_atomic_write_replaces_content_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "paper.tex"
    target.write_bytes(b"old\r\n")
    atomic_write_bytes(target, b"new\r\n")
    assert target.read_bytes() == b"new\r\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["paper.tex"]


def test_atomic_write_keeps_permission_bits(tmp_path: Path) -> None:
    target = tmp_path / "paper.tex"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    atomic_write_bytes(target, b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_atomic_write_failure_leaves_original_untouched(tmp_path: Path) -> None:
    target = tmp_path / "paper.tex"
    target.write_bytes(b"precious")

    # the write itself fails (as on a full disk): the temporary file goes, the original stays
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["paper.tex"]


def test_atomic_write_missing_directory_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "out.tex"
    with pytest.raises(FileNotFoundError) as info:
        atomic_write_bytes(missing, b"x")
    assert info.value.filename == str(tmp_path / "nope")


@pytest.mark.parametrize(
    ("data", "encoding", "expected_codec", "bom"),
    [
        (b"a\r\nb\r\n\\cite{x}\r\n", "utf-8", "utf-8", b""),
        (b"caf\xe9\r\nna\xefve\n", "latin-1", "iso8859-1", b""),
        (codecs.BOM_UTF8 + "é\r\n".encode(), "utf-8-sig", "utf-8", codecs.BOM_UTF8),
        (b"old mac\rline\r", "utf-8", "utf-8", b""),
    ],
)
def test_decode_exact_round_trips(data: bytes, encoding: str, expected_codec: str, bom: bytes) -> None:
    exact = decode_exact(data, encoding)
    assert exact.encoding == expected_codec
    assert exact.bom == bom
    assert exact.encode(exact.text) == data
    assert "\ufeff" not in exact.text


def test_decode_exact_keeps_crlf_and_reports_newline() -> None:
    exact = decode_exact(b"x\r\ny\r\n", "utf-8")
    assert exact.text == "x\r\ny\r\n"
    assert exact.newline == "\r\n"
    assert decode_exact(b"x\ny\n", "utf-8").newline == "\n"


def test_encode_refuses_characters_the_encoding_cannot_hold() -> None:
    exact = ExactText(data=b"x", text="x", encoding="latin-1")
    with pytest.raises(UnicodeEncodeError):
        exact.encode("\u4e2d")


def test_decode_exact_rejects_invalid_bytes() -> None:
    with pytest.raises(UnicodeDecodeError):
        decode_exact(b"caf\xe9", "utf-8")
