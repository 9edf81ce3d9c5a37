"""One .bib file's text parsed into entries, problems and the @string macros it leaves defined.

Why a module of its own: this is the tolerant per-file step (bibtexparser v2's splitter plus our middlewares
from ``bibparse``), free of caches and of other files. ``bibindex`` reads files, caches these results and merges
them; ``bib_parallel`` runs this same step on parts of one huge file. Every broken block becomes a
``BibProblem`` with its line, never an exception.
"""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import bibtexparser
from bibtexparser.model import DuplicateBlockKeyBlock, Entry as _BpEntry

from .bibentry import BibProblem, Entry, _build_entry
from .bibparse import DECODED_KEY, PROBLEMS_KEY, decode_fields, startref_parse_stack

# bibtexparser logs every failed block; we report them as BibProblems instead, so keep its log quiet by
# default (an application that configures logging still sees them).
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())


@dataclass(frozen=True)
class _FileResult:
    """What one file contributes before merging: entries in order (first of a duplicated key only), problems,
    and the @string macros known after it (inherited by the next file, as BibTeX reads files in sequence)."""

    entries: tuple[Entry, ...]
    problems: tuple[BibProblem, ...]
    strings: Mapping[str, str]


#: A line whose first non-blank character is ``%``: biber and most users treat it as a comment even inside an
#: entry (commented-out fields); bibtexparser does not, and would fail the whole entry.
_COMMENT_LINE_RE = re.compile(r"^[ \t]*%.*$", re.MULTILINE)


#: Parsing a text longer than this ends with a garbage collection (see ``_parse_text``).
_COLLECT_AFTER_CHARS = 2_000_000


def _failure_reason(error: BaseException) -> str:
    reason = getattr(error, "abort_reason", None) or getattr(error, "message", None) or str(error)
    return " ".join(str(reason).split()) or type(error).__name__


def _key_is_trusted(key: str, start_line: int, latin1_lines: frozenset[int]) -> bool:
    """False for a non-ASCII key read from a line that was not UTF-8: its text is a guess (Latin-1), so proposing it
    could insert a key that is not byte-identical to the file. ``start_line`` is 1-based (the ``@`` line)."""
    if not latin1_lines or key.isascii():
        return True
    return not any(n in latin1_lines for n in range(start_line, start_line + 3))


def _parse_text(text: str, name: str, inherited: Mapping[str, str],
                latin1_lines: frozenset[int] = frozenset()) -> _FileResult:
    stack, expand = startref_parse_stack(inherited)
    if "%" in text:
        text = _COMMENT_LINE_RE.sub("", text)  # keeps the newlines, so line numbers stay true
    if "\\\n" in text:
        # bibtexparser does not count a newline right after a backslash, so every later line number was one off.
        # In TeX a backslash at the end of a line is a control space, exactly like "\ ": say it that way.
        text = text.replace("\\\n", "\\ \n")
    library = bibtexparser.parse_string(text, parse_stack=stack)
    for failed in library.failed_blocks:
        # A failed block keeps its exception, whose traceback holds the splitter's frames and so the whole text:
        # a reference cycle that outlived the request until the cyclic GC ran. The reason is all we report.
        error = getattr(failed, "error", None)
        if isinstance(error, BaseException):
            error.__traceback__ = None
    problems: list[BibProblem] = []

    def add(line: int | None, kind: str, message: str, key: str = "") -> None:
        problems.append(BibProblem(name, (line or 0) + 1 if line is not None else 0, kind, message, key))

    for line, kind, message in expand.problems:
        add(line, kind, message)
    entries: list[Entry] = []
    for block in library.blocks:
        if isinstance(block, DuplicateBlockKeyBlock):
            prev = block.previous_block
            what = "@string" if not isinstance(block.ignore_error_block, _BpEntry) else "entry"
            add(block.start_line, "duplicate_key" if what == "entry" else "duplicate_string",
                f"{what} key '{block.key}' already defined at line {(prev.start_line or 0) + 1}; "
                f"{'the first one is kept' if what == 'entry' else 'the later value is ignored'}", block.key)
            continue
        if isinstance(block, bibtexparser.model.ParsingFailedBlock):
            add(block.start_line, "parse_error", f"cannot parse block: {_failure_reason(block.error)}")
            continue
        if not isinstance(block, _BpEntry):
            continue
        for line, kind, message in block.parser_metadata.get(PROBLEMS_KEY, ()):
            add(line, kind, message)
        key = (block.key or "").strip()
        if not key:
            add(block.start_line, "missing_key", f"@{block.entry_type} entry has no citation key; skipped")
            continue
        if not _key_is_trusted(key, (block.start_line or 0) + 1, latin1_lines):
            add(block.start_line, "decoding", f"entry key '{key}' is on a line that is not valid UTF-8, so its exact "
                "bytes are unknown; skipped (save the file as UTF-8 to cite it)", key)
            continue
        fields = {f.key: str(f.value) for f in block.fields}
        decoded = block.parser_metadata.get(DECODED_KEY) or decode_fields(fields)
        if not str(decoded.get("title", "")).strip():
            add(block.start_line, "empty_title", f"entry '{key}' has no title; kept, citable by key only")
        entries.append(_build_entry(key, block.entry_type, fields, decoded, name, (block.start_line or 0) + 1))
    result = _FileResult(tuple(entries), tuple(problems), MappingProxyType(dict(expand.defined)))
    if len(text) > _COLLECT_AFTER_CHARS:
        # Any cycle left in a large parse is freed now rather than whenever the cyclic GC runs: a 19 MB library
        # with failed blocks kept ~240 MB resident after its parse (469 MB -> 221 MB RSS with this).
        library = block = stack = expand = None  # type: ignore[assignment]
        gc.collect()
    return result

