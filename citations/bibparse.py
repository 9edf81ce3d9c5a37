"""Our steps in bibtexparser v2's parse stack: small ``transform(library)`` middlewares, one concern each.

Why middlewares: bibtexparser already splits tolerantly (a bad block becomes a ``ParsingFailedBlock`` with its
line and the rest goes on); we add what BibTeX does and bibtexparser leaves out — ``#`` concatenation and month
macros in string expansion, first-field-wins for duplicate fields, a repair attempt for an unbalanced entry —
and one decoding step for the fields we *match* on. Raw field values are kept for display and writing.

Each middleware records what went wrong as ``(line, kind, message)`` tuples in the block's parser metadata under
``PROBLEMS_KEY`` (or, for library-wide steps, in its own ``problems`` list); ``bibindex`` turns them into
``BibProblem`` values. Line numbers here are bibtexparser's: 0-based.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.middlewares import BlockMiddleware, LibraryMiddleware
from bibtexparser.model import (
    Block,
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    Field,
    ParsingFailedBlock,
)

from .normalize import last_names, latex_to_unicode

__all__ = [
    "PROBLEMS_KEY",
    "DECODED_KEY",
    "MONTH_MACROS",
    "LowercaseFieldKeys",
    "RecoverFailedBlocks",
    "ExpandStrings",
    "DecodeMatchingFields",
    "decode_fields",
    "expand_value",
    "repair_block_text",
    "startref_parse_stack",
]

PROBLEMS_KEY = "startref_problems"
DECODED_KEY = "startref_decoded"

#: BibTeX's predefined month macros (``month = jan``) expand to the full English name, as in the standard styles.
MONTH_MACROS: dict[str, str] = {
    m[:3]: m
    for m in (
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
        "november", "december",
    )
}
MONTH_MACROS = {k: v.capitalize() for k, v in MONTH_MACROS.items()}

#: Fields whose value is decoded from LaTeX for matching; in BibTeX's order of preference for the venue.
VENUE_FIELDS = ("journal", "journaltitle", "booktitle", "publisher", "howpublished", "school", "institution",
                "organization")


def _add_problem(block: Block, line: int | None, kind: str, message: str) -> None:
    problems = block.parser_metadata.setdefault(PROBLEMS_KEY, [])
    problems.append((line if line is not None else block.start_line, kind, message))


class LowercaseFieldKeys(BlockMiddleware):
    """Lower-case field names (``Title`` -> ``title``); on a clash the FIRST value wins, as in BibTeX.

    bibtexparser's own ``NormalizeFieldKeys`` keeps the last value, which differs from what BibTeX prints.
    """

    def transform_entry(self, entry: Entry, library: Library) -> Entry:
        seen: dict[str, Field] = {}
        for f in entry.fields:
            key = f.key.lower()
            if key in seen:
                _add_problem(entry, f.start_line, "duplicate_field",
                             f"entry '{entry.key}' repeats field '{key}'; the first value is used")
                continue
            f.key = key
            seen[key] = f
        entry.fields = list(seen.values())
        return entry


_FIELD_START_RE = re.compile(r"^\s*[A-Za-z][\w:.+-]*\s*=")


def repair_block_text(raw: str) -> str | None:
    """Close braces left open at the end of a field's line when the next line starts a new field or the entry end.

    This is the common hand-editing slip (``title = {Foo {Bar},``). Returns ``None`` when nothing was changed:
    then the block stays failed rather than being guessed at.
    """
    lines = raw.split("\n")
    changed = False
    depth = 0
    for i, line in enumerate(lines):
        if i == 0:
            depth = line.count("{") - line.count("}") - 1  # the entry's own opening brace
            continue
        starts_field = bool(_FIELD_START_RE.match(line))
        if starts_field:
            depth = 0
        depth += line.count("{") - line.count("}")
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if depth > 0 and starts_field and (_FIELD_START_RE.match(nxt) or nxt.strip().startswith("}")):
            body = line.rstrip()
            comma = body.endswith(",")
            body = body[:-1] if comma else body
            lines[i] = body + "}" * depth + ("," if comma else "")
            depth = 0
            changed = True
    return "\n".join(lines) if changed else None


class RecoverFailedBlocks(BlockMiddleware):
    """Turn recoverable failed blocks back into entries, so one slip does not lose a citable key.

    * duplicate fields: keep the entry, first value wins (BibTeX's behaviour);
    * a syntax error: try ``repair_block_text`` and re-parse; on success keep the entry and note the repair.
    Duplicate *keys* stay failed blocks: the index reports them (the first entry with a key wins).
    """

    def transform_failed_block(self, failed_block: ParsingFailedBlock, library: Library) -> Block | Collection[Block] | None:
        if isinstance(failed_block, DuplicateBlockKeyBlock):
            return failed_block
        if isinstance(failed_block, DuplicateFieldKeyBlock):
            entry = failed_block.ignore_error_block
            if isinstance(entry, Entry):
                LowercaseFieldKeys().transform_entry(entry, library)  # records the duplicate field problem
                return entry
            return failed_block
        raw = failed_block.raw or ""
        repaired = repair_block_text(raw)
        if repaired is None:
            return failed_block
        sub = bibtexparser.parse_string(repaired, parse_stack=[])
        if sub.failed_blocks or len(sub.entries) != 1:
            return failed_block
        entry = sub.entries[0]
        offset = failed_block.start_line or 0
        fixed = Entry(entry_type=entry.entry_type, key=entry.key, fields=[
            Field(key=f.key, value=f.value, start_line=(f.start_line or 0) + offset) for f in entry.fields
        ], start_line=offset, raw=raw)
        err = failed_block.error
        reason = " ".join(str(getattr(err, "abort_reason", None) or err).split())
        _add_problem(fixed, offset, "parse_error",
                     f"entry '{entry.key}' is malformed ({reason}); recovered by closing an unbalanced brace")
        return fixed


def _split_concatenation(value: str) -> list[str] | None:
    """Split a raw BibTeX value at top-level ``#``; ``None`` when braces or quotes do not balance."""
    parts: list[str] = []
    depth = 0
    in_quote = False
    start = 0
    for i, ch in enumerate(value):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return None
        elif ch == '"' and depth == 0:
            in_quote = not in_quote
        elif ch == "#" and depth == 0 and not in_quote:
            parts.append(value[start:i].strip())
            start = i + 1
    if depth != 0 or in_quote:
        return None
    parts.append(value[start:].strip())
    return parts


def expand_value(value: str, strings: Mapping[str, str]) -> tuple[str, list[str]]:
    """Expand one raw BibTeX value: strip the outer ``{}``/``""``, resolve macros, join ``#`` parts.

    Returns the value and the macro names that were not defined (kept verbatim, as BibTeX warns and goes on).
    ``strings`` maps lower-cased macro names to already expanded values.
    """
    parts = _split_concatenation(value)
    if parts is None:
        return value.strip("{}\""), []
    out: list[str] = []
    undefined: list[str] = []
    for part in parts:
        if len(part) >= 2 and ((part[0] == "{" and part[-1] == "}") or (part[0] == '"' and part[-1] == '"')):
            out.append(part[1:-1])
        elif part.isdigit() or not part:
            out.append(part)
        else:
            name = part.lower()
            if name in strings:
                out.append(strings[name])
            elif name in MONTH_MACROS:
                out.append(MONTH_MACROS[name])
            else:
                undefined.append(part)
                out.append(part)
    return "".join(out), undefined


class ExpandStrings(LibraryMiddleware):
    """``@string`` expansion as BibTeX does it: case-insensitive names, ``#`` concatenation, month macros,
    strings referring to earlier strings, and strings inherited from the bibliography files listed before.

    Also removes the enclosing braces/quotes of every field (we do not run bibtexparser's
    ``RemoveEnclosingMiddleware``; this replaces both it and ``ResolveStringReferencesMiddleware``).
    After ``transform``, ``defined`` holds every macro known at the end (inherited plus this file's).
    """

    def __init__(self, inherited: Mapping[str, str] | None = None) -> None:
        super().__init__(allow_inplace_modification=True)
        self.defined: dict[str, str] = dict(inherited or {})
        self.problems: list[tuple[int | None, str, str]] = []

    def transform(self, library: Library) -> Library:
        for block in library.blocks:
            if isinstance(block, bibtexparser.model.String):
                value, undefined = expand_value(str(block.value), self.defined)
                for name in undefined:
                    self.problems.append((block.start_line, "undefined_string",
                                          f"@string{{{block.key}}} uses undefined macro '{name}'"))
                block.value = value
                self.defined[block.key.lower()] = value
            elif isinstance(block, Entry):
                for f in block.fields:
                    if not isinstance(f.value, str):
                        continue
                    value, undefined = expand_value(f.value, self.defined)
                    for name in undefined:
                        _add_problem(block, f.start_line, "undefined_string",
                                     f"entry '{block.key}' field '{f.key}' uses undefined macro '{name}'")
                    f.value = value
        return library


def decode_fields(fields: Mapping[str, str]) -> dict[str, object]:
    """The Unicode forms we match on, computed from raw (expanded) fields: title, author last names, venue.

    One function used both by ``DecodeMatchingFields`` and after crossref inheritance, so the two never differ.
    """
    people = fields.get("author") or fields.get("editor") or ""
    venue = next((fields[k] for k in VENUE_FIELDS if fields.get(k, "").strip()), "")
    return {
        "title": latex_to_unicode(fields.get("title", "")),
        "authors": tuple(last_names(people)),
        "venue": latex_to_unicode(venue),
    }


class DecodeMatchingFields(BlockMiddleware):
    """Store the decoded matching fields of each entry in its parser metadata; raw fields stay untouched."""

    def transform_entry(self, entry: Entry, library: Library) -> Entry:
        fields = {f.key: f.value for f in entry.fields if isinstance(f.value, str)}
        entry.parser_metadata[DECODED_KEY] = decode_fields(fields)
        return entry


def startref_parse_stack(inherited_strings: Mapping[str, str] | None = None) -> tuple[list[BlockMiddleware | LibraryMiddleware], ExpandStrings]:
    """Our full parse stack, and the ``ExpandStrings`` step in it (whose ``defined``/``problems`` the caller reads)."""
    expand = ExpandStrings(inherited_strings)
    return [RecoverFailedBlocks(), LowercaseFieldKeys(), expand, DecodeMatchingFields()], expand
