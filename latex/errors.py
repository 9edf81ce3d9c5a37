"""The one error the LaTeX layer raises for bad user input.

Why its own module: every LaTeX-facing function (reading a file, mapping a cursor, finding a bibliography) must
turn bad input into a message that names the file and, when known, the line -- never a traceback. The CLI and the
server print ``str(err)`` as it is, compiler style (``path:line: message``), so editors can jump to it.
"""

from __future__ import annotations

__all__ = ["LatexInputError"]


class LatexInputError(Exception):
    """Bad LaTeX input: unreadable/binary file, cursor outside the text, broken root magic comment, ...

    ``str(err)`` renders ``path:line: message``, leaving out the parts that are unknown. ``code`` is a stable
    machine-readable kind the server maps to a response: ``cursor_out_of_range`` (cursor/position errors),
    ``file_unreadable`` (missing/unreadable file, bad ``% !TEX root``), ``binary_input`` (binary junk).
    """

    CURSOR_OUT_OF_RANGE = "cursor_out_of_range"
    FILE_UNREADABLE = "file_unreadable"
    BINARY_INPUT = "binary_input"

    exit_code: int = 2

    def __init__(
        self, message: str, path: str | None = None, line: int | None = None, code: str | None = None
    ) -> None:
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        self.code = code
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path if self.line is None else f"{self.path}:{self.line}"
        elif self.line is not None:
            where = f"line {self.line}"
        return f"{where}: {self.message}" if where else self.message
