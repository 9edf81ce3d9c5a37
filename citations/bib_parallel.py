"""Parsing one large .bib (a whole library) on several cores: cut between entries, parts parsed in processes.

Why: a 23 MB library .bib (36,728 entries) takes ~19 s to parse on one core — bibtexparser's splitter, @string
expansion and, mostly, LaTeX decoding (pylatexenc) of titles and abstracts — and it is the first index's other
slow step besides embedding. Entries are independent once the ``@string`` macros defined before them are known,
so the text is cut at block starts (a line starting ``@type{``: bibtexparser's splitter ends any block there) into
three parts per core; this process and ``workers - 1`` child processes (fresh interpreters: no torch, no forked
threads) each take the next part until none is left, so a slow part (abstracts full of math) is not waited for.
The result is the same index ``load_bibliography`` gives: the same entries with the same line numbers, the same
problems (a key defined again in a later part is reported in the words a whole-file parse uses).

``@string`` macros: a "skeleton" of the text (its ``@string`` blocks in place, everything else reduced to its line
breaks) is parsed first (0.3 s for 343 macros in 474k lines) and reports the macros' own problems once; each part
inherits the macros of the parts before it. A file that defines one macro twice with different values is parsed in one
piece (BibTeX keeps the first value; a part that redefined it would use its own).
"""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields as dc_fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO

from startref.citations.bibdecode import DecodedBib, decode_bib_bytes
from startref.citations.bibentry import BibProblem, Entry
from startref.citations.bibfile import _parse_text
from startref.citations.bibindex import _PARALLEL_MIN_BYTES, BibIndex, _merge, load_bibliography
from startref.citations.errors import BibliographyError

__all__ = ["load_large_bibliography", "parse_large_bytes", "split_points", "entry_state", "entry_from_state",
           "PARALLEL_MIN_CHARS"]

#: Parts per process: each takes the next part when done, so a slow part (abstracts full of math) is not waited for.
PARTS_PER_WORKER = 3
#: Below this a file is parsed in one piece (a child process costs ~0.3 s to start).
PARALLEL_MIN_CHARS = _PARALLEL_MIN_BYTES
#: A line break before a block start: bibtexparser's ``_BLOCK_START`` (``@\\w*[ \\t]*(?=[{(])``) at a line start.
_BLOCK_LINE = re.compile(r"\n(?=[ \t]*@\w*[ \t]*[{(])")
_STRING_START = re.compile(r"@string\w*[ \t]*[{(]", re.IGNORECASE)
#: Problems about ``@string`` blocks: reported from the skeleton, not again by the part that holds the block.
_STRING_KINDS = ("duplicate_string", "undefined_string")


def entry_state(e: Entry) -> dict[str, Any]:
    """A picklable form of an entry (its ``fields`` mapping proxy as a dict)."""
    state = {f.name: getattr(e, f.name) for f in dc_fields(e)}
    state["fields"] = dict(e.fields)
    return state


def entry_from_state(state: Mapping[str, Any]) -> Entry:
    """The entry ``entry_state`` describes."""
    state = dict(state)
    state["fields"] = MappingProxyType(state["fields"])
    return Entry(**state)


def split_points(text: str, parts: int) -> list[int]:
    """Character offsets (0 first) where ``text`` can be cut into about ``parts`` equal pieces: each at the start of
    a line that starts a block (``@type{`` or ``@type(``, as bibtexparser's splitter recognises one). The splitter
    ends whatever block it is in at such a line (an unclosed entry becomes a failed block there), so a cut there
    splits the text exactly where a parse of the whole would."""
    cuts = [0]
    for k in range(1, parts):
        m = _BLOCK_LINE.search(text, max(cuts[-1] + 1, len(text) * k // parts))
        if m is None:
            break
        cuts.append(m.start() + 1)
    return cuts


def _string_blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of every ``@string`` block, its end found by balancing its delimiters."""
    blocks = []
    for m in _STRING_START.finditer(text):
        opener = text[m.end() - 1]
        closer = "}" if opener == "{" else ")"
        depth, i = 1, m.end()
        while i < len(text) and depth:
            if text[i] == opener:
                depth += 1
            elif text[i] == closer:
                depth -= 1
            i += 1
        blocks.append((m.start(), i))
    return blocks


def _skeleton(text: str, blocks: Sequence[tuple[int, int]], end: int) -> str:
    """``text[:end]`` with everything but the ``@string`` blocks reduced to its line breaks (line numbers stay)."""
    pieces, last = [], 0
    for start, stop in blocks:
        if start >= end:
            break
        pieces.append("\n" * text.count("\n", last, start))
        pieces.append(text[start:stop])
        last = stop
    pieces.append("\n" * text.count("\n", last, max(last, end)))
    return "".join(pieces)


def _conflicting_strings(skeleton: str) -> bool:
    """Whether a macro is defined twice with different values (parts could then disagree with BibTeX)."""
    import bibtexparser
    from bibtexparser.model import DuplicateBlockKeyBlock, String

    values: dict[str, set[str]] = {}
    for block in bibtexparser.parse_string(skeleton, parse_stack=[]).blocks:
        if isinstance(block, DuplicateBlockKeyBlock):
            block = block.ignore_error_block
        if isinstance(block, String):
            values.setdefault(str(block.key).lower(), set()).add(str(block.value))
    return any(len(v) > 1 for v in values.values())


def _parse_part(text: str, name: str, inherited: Mapping[str, str], latin1: frozenset[int]
                ) -> tuple[list[dict[str, Any]], list[BibProblem]]:
    result = _parse_text(text, name, inherited, latin1)
    return [entry_state(e) for e in result.entries], list(result.problems)


class _Child:
    """A fresh interpreter (``python -m startref.citations.bib_parallel``) parsing parts until its stdin closes;
    each job and result is one length-prefixed pickle."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "startref.citations.bib_parallel"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def parse(self, job: tuple[str, str, dict[str, str], frozenset[int]]
              ) -> tuple[list[dict[str, Any]], list[BibProblem]]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        _write_frame(self.proc.stdin, job)
        result = _read_frame(self.proc.stdout)
        if result is None:
            raise RuntimeError(f"the parse worker ended (exit status {self.proc.poll()})")
        return result  # type: ignore[no-any-return]

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _write_frame(stream: BinaryIO, obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(8, "little") + data)
    stream.flush()


def _read_frame(stream: BinaryIO) -> Any:
    head = stream.read(8)
    if len(head) < 8:
        return None
    size = int.from_bytes(head, "little")
    data = stream.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)


_DEFINED_AT = re.compile(r"(already defined at line )(\d+)")


def _shifted(problems: Sequence[BibProblem], lines: int) -> list[BibProblem]:
    """A part's problems with the file's line numbers (also the one a duplicate's message names)."""
    if not lines:
        return list(problems)
    return [replace(p, line=p.line + lines if p.line > 0 else 0,
                    message=_DEFINED_AT.sub(lambda m: f"{m.group(1)}{int(m.group(2)) + lines}", p.message))
            for p in problems]


def _keyless_as_duplicates(problems: list[BibProblem]) -> list[BibProblem]:
    """A key-less entry after an earlier one is a duplicate of key '' to bibtexparser (a whole-file parse says so);
    a part that holds the later one alone calls it ``missing_key``: say what the whole-file parse says."""
    first = 0
    out = []
    for p in problems:
        if p.kind == "missing_key" or (p.kind == "duplicate_key" and not p.key and "key ''" in p.message):
            if first:
                p = replace(p, kind="duplicate_key",
                            message=f"entry key '' already defined at line {first}; the first one is kept")
            first = first or p.line
        out.append(p)
    return out


def load_large_bibliography(path: Path, workers: int) -> BibIndex:
    """``load_bibliography([path])``, parsed in up to ``workers`` parts at once when the file is large: for a caller
    that chooses the number of processes (the tests); ``load_bibliography`` does the same with ``bulk_workers()``."""
    if workers <= 1 or path.stat().st_size < PARALLEL_MIN_CHARS:
        return load_bibliography([path])
    try:
        data = path.read_bytes()
    except OSError:
        return load_bibliography([path])  # raises the precise error
    return parse_large_bytes(str(path), data, workers) or load_bibliography([path])


def parse_large_bytes(name: str, data: bytes, workers: int) -> BibIndex | None:
    """The index of one .bib file's ``data`` parsed in parts on ``workers`` processes, or None where it is to be
    parsed in one piece (small, one part, a macro defined twice differently, a failing child)."""
    if workers <= 1 or len(data) < PARALLEL_MIN_CHARS:
        return None
    decoded = decode_bib_bytes(data)
    cuts = split_points(decoded.text, PARTS_PER_WORKER * workers) if decoded.text.strip() else [0]
    if len(cuts) < 2:
        return None
    text = decoded.text
    blocks = _string_blocks(text)
    string_problems: list[BibProblem] = []
    if blocks:
        skeleton = _skeleton(text, blocks, len(text))
        string_problems = [p for p in _parse_text(skeleton, name, {}).problems if p.kind in _STRING_KINDS]
        if any(p.kind == "duplicate_string" for p in string_problems) and _conflicting_strings(skeleton):
            return None
    return _parse_parts(name, decoded, cuts, blocks, string_problems, workers)


def _parse_parts(name: str, decoded: DecodedBib, cuts: list[int], blocks: list[tuple[int, int]],
                 string_problems: list[BibProblem], workers: int) -> BibIndex | None:
    """Parse the parts: this process and ``workers - 1`` children each take the next part until none is left
    (parts cost unequal time per character: abstracts full of math are slow to decode)."""
    text = decoded.text
    bounds = list(zip(cuts, cuts[1:] + [len(text)]))
    offsets = [text.count("\n", 0, start) for start, _ in bounds]
    jobs = []
    inherited: dict[str, str] = {}
    for k, ((start, stop), lines) in enumerate(zip(bounds, offsets)):
        if blocks and k:  # the macros of the previous part's @string blocks, on top of those before it
            segment = "\n".join(text[a:b] for a, b in blocks if bounds[k - 1][0] <= a < start)
            inherited = dict(_parse_text(segment, name, inherited).strings) if segment else inherited
        span = text.count("\n", start, stop) + 1
        latin1 = frozenset(n - lines for n in decoded.latin1_lines if lines < n <= lines + span)
        jobs.append((text[start:stop], name, inherited, latin1))
    pending = list(range(len(jobs)))
    results: list[Any] = [None] * len(jobs)
    lock = threading.Lock()

    def take() -> int | None:
        with lock:
            return pending.pop(0) if pending else None

    def in_child() -> None:
        child = _Child()
        try:
            while (k := take()) is not None:
                results[k] = child.parse(jobs[k])
        finally:
            child.close()

    with ThreadPoolExecutor(max_workers=workers - 1, thread_name_prefix="startref-bib") as pool:
        children = [pool.submit(in_child) for _ in range(workers - 1)]
        while (k := take()) is not None:
            own = _parse_text(*jobs[k])
            results[k] = own.entries, list(own.problems)
        try:
            for child in children:
                child.result()
        except (RuntimeError, OSError, pickle.UnpicklingError, EOFError, ValueError):
            return None  # a child that failed costs time, never the result: the caller parses in one piece
    entries: list[Entry] = []
    problems = [BibProblem(name, line, kind, message) for line, kind, message in decoded.problems] + string_problems
    for (part_entries, part_problems), lines in zip(results, offsets):
        entries += [(replace(e, line=e.line + lines) if lines else e) if isinstance(e, Entry)
                    else entry_from_state({**e, "line": e["line"] + lines}) for e in part_entries]
        problems += [p for p in _shifted(part_problems, lines) if not _about_strings(p)]
    entries, problems = _first_of_each_key(entries, problems)
    return _merge([(entries, _keyless_as_duplicates(problems))], [name])


def _about_strings(p: BibProblem) -> bool:
    """A part's problem with an ``@string`` block (the skeleton reports those once, with the whole file's view)."""
    return p.kind == "duplicate_string" or (p.kind == "undefined_string" and p.message.startswith("@string{"))


def _first_of_each_key(entries: list[Entry], problems: list[BibProblem]) -> tuple[list[Entry], list[BibProblem]]:
    """A key defined again in a later part: dropped with the problem a whole-file parse reports (its words); a
    part's own duplicates of such a key name the file's first definition, as the whole-file parse does."""
    first: dict[str, Entry] = {}
    kept = []
    for e in entries:
        earlier = first.setdefault(e.key, e)
        if earlier is e:
            kept.append(e)
        else:
            problems.append(BibProblem(e.file, e.line, "duplicate_key", "", e.key))
    return kept, [replace(p, message=f"entry key '{p.key}' already defined at line {first[p.key].line}; the first "
                          "one is kept") if p.kind == "duplicate_key" and p.key in first else p for p in problems]


def _child_main() -> int:
    while (job := _read_frame(sys.stdin.buffer)) is not None:
        _write_frame(sys.stdout.buffer, _parse_part(*job))
    return 0


if __name__ == "__main__":
    raise SystemExit(_child_main())
