"""The startref exception tree, drawn once so every layer raises and catches the same few types.

    StartrefError                 base; the CLI prints ``str(err)`` and exits with ``err.exit_code``
    ├── BibliographyError         a .bib file cannot be used at all (missing, directory, binary junk)
    ├── ModelNotFoundError        a model path/name does not exist locally (we never download at run time)
    ├── ModelError                a model exists but cannot be loaded or run
    └── DeadlineExceeded          a request ran past its deadline (the server's per-request time limit)

Problems *inside* a bibliography (one broken entry, a duplicate key) are not exceptions: they are reported as
``BibProblem`` values by the index, because one bad entry must never hide the good ones.
"""

from __future__ import annotations

__all__ = ["StartrefError", "BibliographyError", "ModelNotFoundError", "ModelError", "DeadlineExceeded", "check_deadline"]


class StartrefError(Exception):
    """Base of every error startref raises for bad user input or environment; never a bug in startref.

    ``code`` is a stable machine-readable name (the HTTP server's error codes are these).
    """

    exit_code: int = 2
    code: str = "invalid_input"


class BibliographyError(StartrefError):
    """A bibliography file that cannot be read; the message names the file (and the line when known)."""

    code = "bibliography_unreadable"

    def __init__(self, path: str, message: str, line: int | None = None, code: str | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        if code is not None:
            self.code = code  # "bibliography_not_found", "bibliography_empty", "bibliography_unreadable"
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"


class ModelNotFoundError(StartrefError):
    """The requested model is not available locally."""

    code = "model_not_found"


class ModelError(StartrefError):
    """The model could not be loaded or failed while running."""

    code = "model_error"


class DeadlineExceeded(StartrefError):
    """The work ran past its deadline; raised between stages, so a request never holds a worker thread for long."""

    code = "deadline_exceeded"


def check_deadline(deadline: float | None, what: str) -> None:
    """Raise ``DeadlineExceeded`` when ``deadline`` (a ``time.monotonic()`` value, or None for none) has passed."""
    import time

    if deadline is not None and time.monotonic() > deadline:
        raise DeadlineExceeded(f"the request ran past its time limit ({what}); try a smaller document or retry")
