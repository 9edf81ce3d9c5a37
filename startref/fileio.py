"""Safe file writing and exact text round-trips for commands that rewrite a user's files.

Why a module of its own: ``startref annotate --in-place`` edits a paper someone has spent months on. A crash, a full
disk or Ctrl-C half-way through must leave either the old file or the new one, never a truncated mix; and
everything outside the edits must come back byte for byte (same encoding, same BOM, same ``\\r\\n`` line endings).
Both guarantees live here, free of LaTeX and citation knowledge, so they can be tested on their own.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ExactText", "decode_exact", "atomic_write_bytes", "remove_stale_temps", "TMP_SUFFIX"]

#: Suffix of the temporary files ``atomic_write_bytes`` writes beside the target (``.NAME.XXXX.startref-tmp``).
TMP_SUFFIX = ".startref-tmp"
#: A leftover temporary file younger than this is never removed (its writer may have just created it).
_STALE_AFTER_S = 2.0

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]

_BOMS: tuple[tuple[str, bytes], ...] = (
    ("utf-8", codecs.BOM_UTF8),
    ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE),
)


@dataclass(frozen=True)
class ExactText:
    """A file's text decoded so that ``encode(text) == data`` holds exactly.

    ``text`` keeps every ``\\r\\n`` and ``\\r`` as it is (no universal-newline translation) and excludes the BOM,
    which ``encode`` puts back; ``encoding`` is a Python codec name without BOM handling.
    """

    data: bytes
    text: str
    encoding: str
    bom: bytes = b""

    def encode(self, text: str) -> bytes:
        """Encode ``text`` the way the original file was encoded (BOM included).

        Raises ``UnicodeEncodeError`` when ``text`` holds a character the original encoding cannot write
        (e.g. a non-Latin character inserted into a latin-1 file); the caller turns it into a user message.
        """
        return self.bom + text.encode(self.encoding)

    @property
    def newline(self) -> str:
        """The dominant line ending of the original text: ``"\\r\\n"``, ``"\\r"`` or ``"\\n"``."""
        crlf = self.text.count("\r\n")
        lf = self.text.count("\n") - crlf
        cr = self.text.count("\r") - crlf
        if crlf >= lf and crlf >= cr and crlf > 0:
            return "\r\n"
        if cr > lf:
            return "\r"
        return "\n"


def _normalise_codec(name: str) -> str:
    """Map any spelling of a codec (``latin1``, ``ISO-8859-1``, ``utf_8``) to Python's canonical name."""
    return codecs.lookup(name).name


def decode_exact(data: bytes, encoding: str) -> ExactText:
    """Decode ``data`` with ``encoding`` so that re-encoding gives back the same bytes.

    A leading BOM is split off (and remembered) when the encoding is a UTF one, whatever spelling the reader
    used (``utf-8-sig`` included). Raises ``UnicodeDecodeError`` when the bytes are not valid in that encoding and
    ``ValueError`` when the round-trip is not exact (which would make byte-identical output impossible).
    """
    codec = _normalise_codec(encoding)
    if codec == "utf-8-sig":
        codec = "utf-8"
    if codec == "utf-16":
        codec = "utf-16-le" if data.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"
    bom = b""
    for bom_codec, marker in _BOMS:
        if codec == bom_codec and data.startswith(marker):
            bom = marker
            break
    text = data[len(bom):].decode(codec)
    result = ExactText(data=data, text=text, encoding=codec, bom=bom)
    if result.encode(text) != data:
        raise ValueError(f"decoding as {codec} does not round-trip exactly")
    return result


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable; best effort (not every OS or filesystem allows opening a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _default_mode() -> int:
    """The permission bits a plain ``open(path, "w")`` would give a new file under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def remove_stale_temps(target: Path) -> list[Path]:
    """Remove the temporary files an earlier write of ``target`` left behind (SIGKILL, power loss); returns them.

    Why safe: every writer holds an exclusive ``flock`` on its temporary file until it is renamed; the kernel drops
    the lock when the process dies. A leftover we can lock, and that is older than a couple of seconds, has no
    living writer.
    """
    removed: list[Path] = []
    if fcntl is None:
        return removed
    directory = target.parent if str(target.parent) else Path(".")
    try:
        candidates = list(directory.glob(f".{target.name}.*{TMP_SUFFIX}"))
    except OSError:
        return removed
    now = time.time()
    for leftover in candidates:
        try:
            if now - leftover.lstat().st_mtime < _STALE_AFTER_S or not leftover.is_file():
                continue
            fd = os.open(leftover, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # a live writer holds it
        try:
            leftover.unlink()
            removed.append(leftover)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def _naming(target: Path, err: OSError, doing: str) -> OSError:
    """The same error, naming the file the user asked for (not our hidden temporary file) and what we were doing."""
    reason = err.strerror or str(err)
    named = OSError(err.errno or errno.EIO, f"{reason} ({doing}; {target.name} is unchanged)", str(target))
    return named


def atomic_write_bytes(path: str | Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` atomically: readers see the old file or the new one, never a mix.

    Writes a temporary file in the same directory (a rename is atomic only within one filesystem), flushes and
    fsyncs it, then ``os.replace``\\ s it over ``path``. The new file keeps the permission bits of the file it
    replaces (or ``mode`` when given, or the umask default for a new file). On any failure the temporary file is
    removed and ``path`` is left untouched, and the ``OSError`` raised names ``path`` (a full disk or a read-only
    folder says which paper could not be written, not the hidden temporary name). Leftovers of earlier writes that
    were killed are removed first (``remove_stale_temps``). Raises ``FileNotFoundError`` naming the directory when
    it is missing.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(2, "output directory does not exist", str(directory))
    if mode is None:
        try:
            mode = target.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = _default_mode()
    remove_stale_temps(target)
    try:
        fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=TMP_SUFFIX)
    except OSError as err:
        raise _naming(target, err, "cannot create a temporary file in its folder") from None
    if fcntl is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released when we close it, or when we die
    doing = "writing"
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            os.chmod(tmp_name, mode)
            doing = "replacing the file"
            os.replace(tmp_name, target)  # still holding the lock: no cleaner can take the file meanwhile
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        if isinstance(err, OSError):
            raise _naming(target, err, doing) from None
        raise
    _fsync_directory(directory)
