from pathlib import Path

import pytest

from startref.latex.errors import LatexInputError
from startref.latex.source import decode_tex_bytes, read_tex


def test_utf8_file(tmp_path: Path) -> None:
    p = tmp_path / "a.tex"
    p.write_bytes("Café \\cite{x}\r\n𝔸\n".encode())
    src = read_tex(p)
    assert src.text == "Café \\cite{x}\r\n𝔸\n"  # line endings kept exactly
    assert src.encoding == "utf-8" and src.warnings == () and src.path == p


def test_bom_is_stripped(tmp_path: Path) -> None:
    p = tmp_path / "bom.tex"
    p.write_bytes(b"\xef\xbb\xbf\\section{A}\n")
    src = read_tex(str(p))
    assert src.text == "\\section{A}\n"
    assert src.encoding == "utf-8-sig"


def test_latin1_fallback_warns_with_line(tmp_path: Path) -> None:
    p = tmp_path / "old.tex"
    p.write_bytes(b"line one\nline two\nEl ni\xf1o \\cite{k}\n")
    src = read_tex(p)
    assert src.text.endswith("El niño \\cite{k}\n")
    assert src.encoding == "latin-1"
    assert len(src.warnings) == 1 and "decoded as latin-1 (not valid UTF-8 at line 3)" in src.warnings[0]
    assert str(p) in src.warnings[0]


def test_nul_bytes_are_binary_with_line(tmp_path: Path) -> None:
    p = tmp_path / "fake.tex"
    p.write_bytes(b"ok\nstill ok\n\x00\x01junk")
    with pytest.raises(LatexInputError) as info:
        read_tex(p)
    assert info.value.path == str(p) and info.value.line == 3
    assert info.value.code == LatexInputError.BINARY_INPUT
    assert str(info.value).startswith(f"{p}:3: binary data")


def test_control_character_junk_is_binary() -> None:
    data = bytes(range(1, 32)) * 40 + b"text"
    with pytest.raises(LatexInputError, match="buffer.tex:1: binary data"):
        decode_tex_bytes(data, "buffer.tex")


def test_a_few_control_characters_are_fine() -> None:
    text, encoding, warnings = decode_tex_bytes(b"\\documentclass{article}\x0c\n\x1b" + b"x" * 200, "b.tex")
    assert encoding == "utf-8" and warnings == () and text.startswith("\\documentclass")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(LatexInputError, match="nope.tex: file not found") as info:
        read_tex(tmp_path / "nope.tex")
    assert info.value.code == LatexInputError.FILE_UNREADABLE
    with pytest.raises(LatexInputError, match="is a directory"):
        read_tex(tmp_path)


def test_real_papers_decode(bench_papers: Path) -> None:
    mains = 0
    for paper in bench_papers.iterdir():
        for tex in list(paper.rglob("*.tex"))[:5]:
            src = read_tex(tex)
            assert src.text and src.encoding in ("utf-8", "utf-8-sig", "latin-1")
            mains += 1
    assert mains >= 20


def test_utf16_with_bom_is_decoded_not_called_binary() -> None:
    text, encoding, warnings = decode_tex_bytes("\ufeff\\cite{é}".encode("utf-16-le"), "w.tex")
    assert (text, encoding, warnings) == ("\\cite{é}", "utf-16-le", ())
