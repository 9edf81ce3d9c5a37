"""``startref annotate``: fill citation placeholders (``\\cite{?}``, ``[CITATION]`` …) in a .tex file.

Why the care: this command rewrites a user's paper. The engine works on decoded text; this module reads the
exact bytes, keeps the original encoding, BOM and line endings, applies the engine's edits and nothing else, and
writes atomically (``--in-place`` keeps ``FILE.bak``). With nothing to fill it writes nothing, so running it twice
is harmless.
"""

from __future__ import annotations

import argparse
import difflib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from startref.cli.common import (
    add_bib_option,
    add_concurrency_option,
    add_engine_options,
    add_json_option,
    bib_paths,
    make_engine,
    non_negative_int,
    read_source,
)
from startref.cli.library_options import add_library_options, append_to_from_args, prepare_library
from startref.cli.errors import EXIT_OK, CliError
from startref.cli.output import note, print_json, progress_callback, warn
from startref.fileio import ExactText, atomic_write_bytes, decode_exact

if TYPE_CHECKING:
    from startref.citations.suggestion import AnnotateEdit

__all__ = ["register", "run", "apply_edits", "unified_diff", "read_exact", "check_output_path"]


def register(subparsers: Any) -> None:
    """Add ``annotate`` to the ``startref`` parser."""
    parser = subparsers.add_parser(
        "annotate",
        help="fill citation placeholders (\\cite{?}, [CITATION]) with keys from your bibliography",
        description="Fill placeholders such as \\cite{?}, \\citep{} or [CITATION] with the best entry of the "
        "paper's bibliography. Everything else in the file stays byte-identical (encoding and line endings "
        "included); writing is atomic. With no placeholder, nothing is written (exit 0).",
    )
    parser.add_argument("input", metavar="FILE.tex", help="the LaTeX file to annotate")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("-o", "--output", metavar="OUT", help="write the annotated file here (never the input)")
    target.add_argument(
        "--in-place", action="store_true", help="replace the input atomically, keeping the original as FILE.bak"
    )
    parser.add_argument("--dry-run", action="store_true", help="print a unified diff; write nothing")
    parser.add_argument(
        "--keep-k",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="also add a '%% startref: k1 (0.61), k2 (0.22)' comment with the top N candidates",
    )
    parser.add_argument("--command", metavar="CMD", help="cite command for [CITATION] markers (default: the paper's)")
    add_bib_option(parser)
    add_json_option(parser)
    add_engine_options(parser)
    add_concurrency_option(parser)
    add_library_options(parser, append=True)
    parser.set_defaults(func=run)


def apply_edits(text: str, edits: Sequence[AnnotateEdit]) -> str:
    """Splice ``edits`` (offsets into the original ``text``) into ``text``; everything between stays as is.

    Raises ``ValueError`` for overlapping or out-of-range edits: writing those would corrupt the paper.
    """
    pieces: list[str] = []
    position = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < position or edit.end < edit.start or edit.end > len(text):
            raise ValueError(f"edit {edit.start}..{edit.end} overlaps another edit or lies outside the text")
        pieces.append(text[position : edit.start])
        pieces.append(edit.new)
        position = edit.end
    pieces.append(text[position:])
    return "".join(pieces)


def unified_diff(old: str, new: str, path: str) -> str:
    """A ``diff -u`` style patch between two versions of ``path`` (line endings shown as they are)."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    )
    out: list[str] = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def read_exact(path: Path) -> ExactText:
    """The file's exact bytes and a decoding that round-trips them, using the LaTeX reader's validation.

    ``read_tex`` rejects binary junk and decides the encoding (UTF-8, else latin-1 with a warning); we decode the
    bytes ourselves with that encoding so no newline translation can creep in.
    """
    source = read_source(path)
    data = path.read_bytes()
    try:
        return decode_exact(data, source.encoding or "utf-8")
    except (UnicodeDecodeError, ValueError, LookupError) as error:
        raise CliError(f"{path}: cannot be rewritten byte-for-byte ({error})", code="file_unreadable") from None


def check_output_path(input_path: Path, output: Path) -> None:
    """Refuse ``-o`` pointing at the input (or a link to it) and a missing output directory."""
    same = output.resolve() == input_path.resolve()
    if not same and output.exists():
        try:
            same = os.path.samefile(output, input_path)
        except OSError:
            same = False
    if same:
        raise CliError(f"{output}: -o is the input file; use --in-place to rewrite it", code="bad_output")
    parent = output.parent if str(output.parent) else Path(".")
    if not parent.is_dir():
        raise CliError(f"{output}: output directory {parent} does not exist", code="bad_output")
    if output.is_dir():
        raise CliError(f"{output}: is a directory; give a file name to -o", code="bad_output")


def _summary_lines(path: str, edits: Sequence[AnnotateEdit]) -> list[str]:
    lines = []
    for edit in edits:
        old = " ".join(edit.old.split())
        new = " ".join(edit.new.split())
        lines.append(f"{path}:{edit.line}: {old} -> {new}")
    return lines


def run(args: argparse.Namespace) -> int:
    """Annotate, then write to ``-o`` / in place / nowhere (``--dry-run``), and print what changed."""
    input_path = Path(args.input)
    output = Path(args.output) if args.output else None
    if output is None and not args.in_place and not args.dry_run:
        raise CliError("annotate needs -o OUT, --in-place or --dry-run", code="bad_usage")
    if output is not None:
        check_output_path(input_path, output)
    bibs = bib_paths(args)
    original = read_exact(input_path)
    engine = make_engine(args)
    prepare_library(engine)
    with progress_callback(f"annotate {input_path.name}") as progress:
        result = engine.annotate(
            original.text, path=str(input_path), bib=bibs, keep_k=args.keep_k, command=args.command, progress=progress,
            concurrency=args.concurrency,
            append_to=append_to_from_args(args),
        )
    edits = list(result.edits)
    new_text = result.text if edits else original.text
    if edits and args.keep_k == 0:
        # Belt and braces: without keep-k comments the engine's text must be exactly our splice of its edits,
        # i.e. nothing outside the edits changed. Refuse to write otherwise.
        try:
            spliced = apply_edits(original.text, edits)
        except ValueError as error:
            raise CliError(f"{input_path}: refusing to write: {error}", code="bad_edit") from None
        if spliced != new_text:
            raise CliError(f"{input_path}: refusing to write: the annotated text changes more than the placeholders",
                           code="bad_edit")
    try:
        new_bytes = original.encode(new_text) if edits else original.data
    except UnicodeEncodeError as error:
        bad = new_text[error.start : error.end]
        raise CliError(
            f"{input_path}: the inserted text {bad!r} cannot be written in the file's encoding "
            f"({original.encoding}); nothing written",
            code="encoding",
        ) from None

    written: str | None = None
    backup: str | None = None
    diff = unified_diff(original.text, new_text, str(input_path)) if args.dry_run else ""
    bib_edit = result.bib_edit if edits else None
    if bib_edit is not None and args.dry_run:
        diff += _bib_diff(bib_edit)
    if edits and not args.dry_run:
        if input_path.read_bytes() != original.data:
            raise CliError(f"{input_path}: the file changed while annotating; nothing written", code="changed")
        if args.in_place:
            backup_path = input_path.with_name(input_path.name + ".bak")
            atomic_write_bytes(backup_path, original.data, mode=input_path.stat().st_mode & 0o7777)
            atomic_write_bytes(input_path, new_bytes)
            written, backup = str(input_path), str(backup_path)
        elif output is not None:
            atomic_write_bytes(output, new_bytes)
            written = str(output)
    bib_written: str | None = None
    if bib_edit is not None and not args.dry_run:
        bib_written = _apply_bib_edit(bib_edit)

    if args.json:
        print_json(
            {
                "file": str(input_path),
                "output": written,
                "backup": backup,
                "dry_run": bool(args.dry_run),
                "edits": [e.to_dict() for e in edits],
                "diff": diff if args.dry_run else None,
                "bib_edit": bib_edit,
                "bib_written": bib_written,
                "bibliography": result.bibliography.to_dict(),
                "warnings": list(result.warnings),
                "generator_error": result.generator_error,
            }
        )
        return EXIT_OK

    for message in result.warnings:
        warn(message)
    if result.generator_error:
        warn(f"LM stage skipped, ranked without it: {result.generator_error}")
    if not edits:
        note(f"{input_path}: no citation placeholder found; nothing written")
        return EXIT_OK
    summary = _summary_lines(str(input_path), edits)
    if args.dry_run:
        print(diff, end="")
        for line in summary:  # stderr, so the diff on stdout stays a clean patch
            note(line)
        note(f"dry run: {len(edits)} placeholder(s) would be filled; nothing written")
        return EXIT_OK
    for line in summary:
        print(line)
    where = f"{written} (original kept as {backup})" if backup else written
    print(f"filled {len(edits)} placeholder(s); wrote {where}")
    if bib_written:
        print(bib_written)
    return EXIT_OK


def _bib_diff(bib_edit: dict[str, Any]) -> str:
    """The unified diff of the .bib append (shown by ``--dry-run`` after the .tex diff)."""
    from startref.citations.library import read_target

    target = read_target(bib_edit["file"])
    new = target.text[: bib_edit["start"]] + bib_edit["text"] + target.text[bib_edit["end"] :]
    return unified_diff(target.text, new, bib_edit["file"])


def _apply_bib_edit(bib_edit: dict[str, Any]) -> str:
    """Append the library entries to the paper's .bib (atomically, keeping FILE.bak); returns what to report."""
    from startref.citations.library import BibEdit, apply_append

    if bib_edit["file"].startswith("<"):
        return f"library entries to add by hand (the bibliography was inline):\n{bib_edit['text']}"
    backup = apply_append(bib_edit["file"], BibEdit(**bib_edit), backup=True)
    kept = f" (original kept as {backup})" if backup else ""
    return f"added {bib_edit['key']} from your library to {bib_edit['file']}{kept}"
