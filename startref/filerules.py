"""The one door through which startref reads a user's file: name rules, regular files only, bounded size.

Why one door: a path reaches startref in many ways — a CLI argument, the server's ``path``/``bib`` fields, a
``\\bibliography``/``\\addbibresource`` in a document's text, an ``\\input``, a ``% !TEX root`` comment, a
BIBINPUTS search. If each way checked its own rules, the weakest one would decide what a request can read (a
``\\addbibresource{/home/u/credentials.txt}`` once bypassed the server's ``.bib``-only rule). So every reader
(``read_tex``, ``load_bibliography``, discovery's candidate checks) goes through ``FileRules``:

* ``allows_name`` decides on the *name* alone (the name as written and after resolving symbolic links), before
  the file system is asked whether it exists — a forbidden file and a missing one give the same answer, so the
  rules are no existence oracle;
* ``read`` opens only regular files (a FIFO named ``x.bib`` would block the reading thread forever; a device could
  be endless), with ``O_NONBLOCK`` so even a FIFO swapped in between the check and the open cannot block, and
  reads at most ``max_bytes`` (+1 to notice a file that grew).

The CLI uses ``FileRules()`` (any name, any size: the user named the file); the server uses
``FileRules.server(max_bytes)`` (``.tex``/``.bib`` only, one size limit). This module knows nothing of LaTeX or
BibTeX; callers turn ``FileRuleError`` into their own error type with the reason as a stable code.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FileRules", "FileRuleError", "ANY_FILE", "TEX", "BIB"]

#: The kinds of file a rule set distinguishes.
TEX = "tex"
BIB = "bib"

_SUFFIXES = {TEX: ".tex", BIB: ".bib"}
_CHUNK = 1 << 20


class FileRuleError(OSError):
    """A file the rules refuse or that cannot be read. ``reason`` is one of:

    ``forbidden`` (the name breaks the rules), ``not_found``, ``too_large``, ``not_regular`` (FIFO, device,
    socket, directory), ``symlink_loop``, ``unreadable`` (permissions, I/O errors).
    """

    def __init__(self, path: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return self.message


def _resolve(path: Path, name: str) -> Path:
    """``path`` with symbolic links resolved (non-strict: a missing tail is fine); a loop is an error."""
    try:
        return path.resolve()
    except RuntimeError:  # Python < 3.13 reports a loop this way
        raise FileRuleError(name, "symlink_loop", "symbolic link loop (the link points back to itself)") from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise FileRuleError(name, "symlink_loop", "symbolic link loop (the link points back to itself)") from None
        raise FileRuleError(name, "unreadable", f"cannot resolve the path: {err.strerror or err}") from None


@dataclass(frozen=True)
class FileRules:
    """What may be read. ``suffix_only``: a ``tex`` file must be named ``*.tex`` and a ``bib`` file ``*.bib``
    (checked on the name as written and on the resolved target); ``max_bytes``: the largest file read (None: any)."""

    suffix_only: bool = False
    max_bytes: int | None = None

    @classmethod
    def server(cls, max_bytes: int) -> FileRules:
        """The local server's rules: only ``.tex``/``.bib`` files, none larger than ``max_bytes``."""
        return cls(suffix_only=True, max_bytes=max_bytes)

    def describe(self, kind: str) -> str:
        """The rule in words, for messages ("only regular .bib files of at most 20971520 bytes are read")."""
        what = f"regular {_SUFFIXES[kind]} files" if self.suffix_only else "regular files"
        size = f" of at most {self.max_bytes} bytes" if self.max_bytes is not None else ""
        return f"only {what}{size} are read"

    def allows_name(self, path: str | Path, kind: str) -> bool:
        """Whether the rules allow this name (as written and resolved); never reveals whether it exists."""
        if not self.suffix_only:
            return True
        suffix = _SUFFIXES[kind]
        raw = str(path)
        if not raw or "\x00" in raw or Path(raw).suffix.lower() != suffix:
            return False
        try:
            return _resolve(Path(raw).expanduser(), raw).suffix.lower() == suffix
        except FileRuleError:
            return False

    def check_name(self, path: str | Path, kind: str) -> Path:
        """``path`` resolved, or ``FileRuleError('forbidden')`` when the name breaks the rules (or a loop)."""
        raw = str(path)
        if not raw or "\x00" in raw:
            raise FileRuleError(raw, "forbidden", f"empty or invalid path {raw!r}")
        resolved = _resolve(Path(raw).expanduser(), raw)
        if self.suffix_only and not self.allows_name(raw, kind):
            raise FileRuleError(raw, "forbidden", f"not allowed: {self.describe(kind)}")
        return resolved

    def is_candidate(self, path: str | Path, kind: str) -> bool:
        """For searches (``\\input{x}`` tries ``x.tex`` then ``x``): allowed by name AND an existing regular file.

        The name is checked first, so a forbidden name is never looked up on disk.
        """
        if not self.allows_name(path, kind):
            return False
        try:
            return stat.S_ISREG(os.stat(path).st_mode)
        except (OSError, ValueError):
            return False

    def read(self, path: str | Path, kind: str) -> bytes:
        """The bytes of ``path`` under the rules; ``FileRuleError`` (with a ``reason``) for anything else."""
        raw = str(path)
        self.check_name(raw, kind)
        p = Path(raw).expanduser()
        try:
            st = os.stat(p)
        except FileNotFoundError:
            if os.path.islink(p):
                raise FileRuleError(raw, "not_found", "broken symbolic link (its target does not exist)") from None
            raise FileRuleError(raw, "not_found", "file not found") from None
        except OSError as err:
            raise self._os_error(raw, err) from None
        self._check_stat(raw, st, kind)
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(p, flags)
        except OSError as err:
            raise self._os_error(raw, err) from None
        try:
            self._check_stat(raw, os.fstat(fd), kind)  # the file may have been swapped since the stat
            limit = self.max_bytes
            chunks: list[bytes] = []
            size = 0
            while True:
                chunk = os.read(fd, _CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if limit is not None and size > limit:
                    raise FileRuleError(raw, "too_large", f"file grew past the limit: {self.describe(kind)}")
                chunks.append(chunk)
            return b"".join(chunks)
        except OSError as err:
            if isinstance(err, FileRuleError):
                raise
            raise self._os_error(raw, err) from None
        finally:
            os.close(fd)

    def _check_stat(self, raw: str, st: os.stat_result, kind: str) -> None:
        if stat.S_ISDIR(st.st_mode):
            raise FileRuleError(raw, "not_regular", "is a directory, not a file")
        if not stat.S_ISREG(st.st_mode):
            what = "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a device or socket"
            raise FileRuleError(raw, "not_regular", f"is {what}, not a regular file; {self.describe(kind)}")
        if self.max_bytes is not None and st.st_size > self.max_bytes:
            raise FileRuleError(raw, "too_large", f"{st.st_size} bytes is over the limit: {self.describe(kind)}")

    @staticmethod
    def _os_error(raw: str, err: OSError) -> FileRuleError:
        if err.errno == errno.ELOOP:
            return FileRuleError(raw, "symlink_loop", "symbolic link loop (the link points back to itself)")
        if err.errno == errno.ENOENT:
            return FileRuleError(raw, "not_found", "file not found")
        return FileRuleError(raw, "unreadable", f"cannot read file ({err.strerror or err})")


#: The CLI's rules: the user named the file, so any name and size; still regular files only.
ANY_FILE = FileRules()
