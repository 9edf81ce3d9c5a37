"""A whole document as one text, its inputs expanded inline, with a map back to each file.

Why: the evaluation, the training miner and ``startref check`` read a paper the way LaTeX typesets it, one text
from ``\\begin{document}`` of the root to the end with every ``\\input`` in place, yet must report a finding at
``chapter.tex:LINE:COL``; ``FlatDocument.locate`` maps back.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path

from startref.filerules import ANY_FILE, FileRules

from .cites import ignored_spans, in_spans
from .errors import LatexInputError
from .inputs import BIB_COMMANDS, FileResolver, absolute, include_commands, same_file
from .source import read_tex

__all__ = ["FlatPiece", "FlatDocument", "flatten_document"]

@dataclass(frozen=True)
class FlatPiece:
    """``FlatDocument.text[start:end]`` is ``sources[file][file_start:file_start + end - start]``."""

    start: int
    end: int
    file: Path
    file_start: int


@dataclass
class FlatDocument:
    """The root file with its inputs expanded inline; ``missing`` lists inputs left as written (not found).

    ``pieces`` (in text order) and ``sources`` (each file's text) map an offset of ``text`` back to its file, so a
    finding in the flat text can be reported at ``chapter.tex:LINE:COL`` (``locate``).
    """

    text: str
    files: list[Path] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    pieces: list[FlatPiece] = field(default_factory=list)
    sources: dict[Path, str] = field(default_factory=dict)

    def locate(self, offset: int) -> tuple[Path, int]:
        """(file, offset in that file's text) of an offset of ``text`` (the end of the text maps to its last file)."""
        starts = [p.start for p in self.pieces]
        k = max(0, bisect.bisect_right(starts, offset) - 1)
        if not self.pieces:
            return (self.files[0] if self.files else Path()), offset
        piece = self.pieces[k]
        return piece.file, piece.file_start + min(offset, piece.end) - piece.start



_BEGIN_DOC = re.compile(r"\\begin\s*\{document\}")
_END_DOC = re.compile(r"\\end\s*\{document\}")


def _subfile_start(text: str) -> int:
    """Where ``_subfile_body`` starts in ``text``."""
    begin = _BEGIN_DOC.search(text)
    return begin.end() if begin else 0


def _subfile_body(text: str) -> str:
    """The body of a ``subfiles`` document (between begin/end document); the whole text when it has none."""
    begin = _BEGIN_DOC.search(text)
    if not begin:
        return text
    end = _END_DOC.search(text, begin.end())
    return text[begin.end() : end.start() if end else len(text)]


def flatten_document(
    root: Path, max_bytes: int = 20_000_000, text: str | None = None, override: tuple[Path, str] | None = None,
    rules: FileRules = ANY_FILE,
) -> FlatDocument:
    """``root`` with ``\\input``/``\\include``/``\\subfile``/``\\import``/``\\subimport`` expanded inline.

    Inputs that cannot be found (or read) stay as written and are listed in ``missing``; an input that would
    include itself is left as written. Bibliography commands are kept. ``text`` is an unsaved buffer for ``root``,
    ``override`` one for another file of the document (an editor's buffer of a chapter).
    Raises LatexInputError when the expansion grows past ``max_bytes`` characters (a runaway input loop).
    ``rules`` decide which inputs may be read, as for ``discover_bibliographies`` (an input they refuse stays as
    written, like a missing one: no existence oracle).
    """
    root = absolute(Path(root))
    if override is not None:
        override = (absolute(Path(override[0])), override[1])
    walker = FileResolver(root, (root, text) if text is not None else override, None, rules)
    doc = FlatDocument(text="")
    out: list[str] = []
    out_len = 0
    total = 0

    def emit(file: Path, source: str, base: int, lo: int, hi: int) -> None:
        nonlocal out_len
        if hi > lo:
            out.append(source[lo:hi])
            doc.pieces.append(FlatPiece(out_len, out_len + hi - lo, file, base + lo))
            out_len += hi - lo

    def expand(file: Path, current_dir: Path, source: str, base: int, stack: tuple[Path, ...]) -> None:
        """Append ``source`` (the text of ``file`` from offset ``base`` on) to ``out``, inputs expanded."""
        nonlocal total
        if file not in doc.files:
            doc.files.append(file)
        ignored = ignored_spans(source)
        starts = [s for s, _ in ignored]
        pos = 0
        for cmd in include_commands(source):
            if cmd.cmd in BIB_COMMANDS or in_spans(ignored, cmd.start, starts):
                continue
            target, folder = walker.resolve_input(cmd, current_dir if cmd.cmd.startswith("sub") else file.parent)
            if target is None or target in stack:
                if target is None:
                    doc.missing.append(cmd.args[-1] if len(cmd.args) == 1 else "/".join(cmd.args))
                continue
            if override is not None and same_file(target, override[0]):
                sub_text = override[1]
            else:
                try:
                    sub = read_tex(target)
                except LatexInputError as err:
                    doc.missing.append(cmd.args[-1])
                    doc.warnings.append(str(err))
                    continue
                doc.warnings.extend(sub.warnings)
                sub_text = sub.text
            doc.sources.setdefault(target, sub_text)
            body, body_start = (_subfile_body(sub_text), _subfile_start(sub_text)) if cmd.cmd == "subfile" else (sub_text, 0)
            total += len(body)
            if total > max_bytes:
                raise LatexInputError(
                    f"flattened document grows past {max_bytes} characters (an input loop?)", path=str(root),
                    code=LatexInputError.FILE_UNREADABLE,
                )
            emit(file, source, base, pos, cmd.start)
            expand(target, folder, body, body_start, stack + (target,))
            pos = cmd.end
        emit(file, source, base, pos, len(source))

    if text is None:
        if override is not None and same_file(root, override[0]):
            text = override[1]
        else:
            source = read_tex(root)
            doc.warnings.extend(source.warnings)
            text = source.text
    total = len(text)
    doc.sources[root] = text
    expand(root, root.parent, text, 0, (root,))
    doc.text = "".join(out)
    return doc
