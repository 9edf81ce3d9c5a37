"""Reading .tex files (and editor buffers) into text, tolerant of real-world encodings.

Why: papers arrive as UTF-8 with or without a BOM, as old latin-1 files, or by mistake as PDFs or images renamed
``.tex``. The first two must just work (with a warning for latin-1); the last must give a clear error naming the
file and line instead of a UnicodeDecodeError traceback or pages of garbage fed to a model.
Line endings are kept exactly as they are, so offsets match the editor's buffer.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from startref.filerules import ANY_FILE, TEX, FileRuleError, FileRules

from .errors import LatexInputError

__all__ = ["SourceText", "read_tex", "decode_tex_bytes", "check_text", "tex_error_code"]

# Share of control characters (other than tab, newline, carriage return, form feed, escape) above which a
# file is taken for binary junk; real LaTeX has essentially none.
_MAX_CONTROL_SHARE = 0.05
_CONTROL_BYTES = bytes(b for b in range(0x20) if b not in b"\t\n\r\f\x1b")
_UTF16_BOMS = ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_PROBE_BYTES = 65536
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class SourceText:
    """A decoded LaTeX file: ``encoding`` is ``utf-8``, ``utf-8-sig`` (a BOM was stripped), ``latin-1`` or
    ``utf-16-le``/``utf-16-be`` (BOM stripped)."""

    path: Path | None
    text: str
    encoding: str
    warnings: tuple[str, ...] = ()


def _line_at(data: bytes, index: int) -> int:
    return data.count(b"\n", 0, index) + 1


def decode_tex_bytes(data: bytes, name: str) -> tuple[str, str, tuple[str, ...]]:
    """Decode the bytes of a .tex file or editor buffer; returns ``(text, encoding, warnings)``.

    Raises LatexInputError (naming ``name`` and the line) for binary data: a NUL byte or too many control chars.
    A UTF-16 file (rare, but some Windows editors write it) is recognised by its BOM before the NUL check.
    """
    for bom, codec in _UTF16_BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec), codec, ()
            except UnicodeDecodeError:
                break
    nul = data.find(b"\x00")
    if nul >= 0:
        raise LatexInputError(
            "binary data (NUL byte), not a LaTeX text file", path=name, line=_line_at(data, nul), code=LatexInputError.BINARY_INPUT
        )
    probe = data[:_PROBE_BYTES]
    if probe:
        controls = len(probe) - len(probe.translate(None, _CONTROL_BYTES))
        if controls / len(probe) > _MAX_CONTROL_SHARE:
            first = next(i for i, b in enumerate(probe) if b in _CONTROL_BYTES)
            raise LatexInputError(
                f"binary data ({controls} control characters in the first {len(probe)} bytes), "
                "not a LaTeX text file",
                path=name,
                line=_line_at(data, first),
                code=LatexInputError.BINARY_INPUT,
            )
    encoding = "utf-8"
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
        encoding = "utf-8-sig"
    try:
        return data.decode("utf-8"), encoding, ()
    except UnicodeDecodeError as err:
        line = _line_at(data, err.start)
        warning = f"{name}: decoded as latin-1 (not valid UTF-8 at line {line})"
        return data.decode("latin-1"), "latin-1", (warning,)


def read_tex(path: str | Path, rules: FileRules = ANY_FILE) -> SourceText:
    """Read a .tex (or .lagda, .ltx, ...) file from disk; raise LatexInputError naming it when it cannot be used.

    ``rules`` decide which names may be read (the server allows only ``.tex``) and how large; only regular files
    are opened, never a FIFO or a device (which could block or never end).
    """
    p = Path(path)
    try:
        data = rules.read(p, TEX)
    except FileRuleError as err:
        raise LatexInputError(err.message, path=str(p), code=tex_error_code(err)) from None
    text, encoding, warnings = decode_tex_bytes(data, str(p))
    return SourceText(path=p, text=text, encoding=encoding, warnings=warnings)


def tex_error_code(err: FileRuleError) -> str:
    """The error code of a .tex file the rules refused: ``forbidden_path``, ``file_too_large`` or ``file_unreadable``."""
    return {"forbidden": "forbidden_path", "too_large": "file_too_large"}.get(err.reason, LatexInputError.FILE_UNREADABLE)


def check_text(text: str, name: str) -> None:
    """Refuse a buffer sent as text that holds a NUL (binary junk), as ``read_tex`` refuses such a file, or a lone
    surrogate (which no encoder or tokenizer can take).

    Why: the CLI reads bytes and refuses binary data; the server receives ``text`` already decoded, and the two
    ways in must answer the same (``binary_input`` with the line).
    """
    nul = text.find("\x00")
    if nul >= 0:
        raise LatexInputError("binary data (NUL character), not LaTeX text", path=name,
                              line=text.count("\n", 0, nul) + 1, code=LatexInputError.BINARY_INPUT)
    bad = _LONE_SURROGATE.search(text)
    if bad:  # a front end that passes decoded JSON on (the HTTP server refuses it earlier with 422)
        raise LatexInputError("a lone UTF-16 surrogate is not a character; send valid Unicode", path=name,
                              line=text.count("\n", 0, bad.start()) + 1, code="invalid_request")
