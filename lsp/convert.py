"""The edge between plain feature results and the protocol: lsprotocol types and UTF-16 positions.

Why one module: offsets inside startref are Python code points; LSP counts UTF-16 code units (an emoji or a
math letter like 𝔸 counts 2). Every conversion goes through ``startref.latex.position`` here, so no feature can
get it wrong on its own.
"""

from __future__ import annotations

from lsprotocol import types

from startref.latex.position import lsp_from_offset, offset_from_lsp

from .completion import CompletionResult
from .definition import Place
from .diagnostics import BibFinding, Finding
from .library import ADD_TO_BIB_COMMAND, command_arguments

__all__ = [
    "offset_at",
    "position_of",
    "range_of",
    "completion_list",
    "diagnostic_of",
    "bib_diagnostic_of",
    "location_of",
    "SOURCE",
]

SOURCE = "startref"
_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}


def offset_at(text: str, position: types.Position) -> int:
    """The code-point offset of an LSP position; raises ``LatexInputError`` when it lies outside the text."""
    return offset_from_lsp(text, position.line, position.character)


def position_of(text: str, offset: int) -> types.Position:
    line, character = lsp_from_offset(text, max(0, min(offset, len(text))))
    return types.Position(line=line, character=character)


def range_of(text: str, start: int, end: int) -> types.Range:
    return types.Range(start=position_of(text, start), end=position_of(text, end))


def completion_list(text: str, result: CompletionResult, uri: str) -> types.CompletionList:
    """The menu as LSP items: ``sortText`` keeps the ranking, the edit replaces the key being typed."""
    items: list[types.CompletionItem] = []
    ranges: dict[tuple[int, int], types.Range] = {}  # every choice replaces the same key: convert once
    for choice in result.choices:
        span = (choice.start, choice.end)
        edit_range = ranges.get(span) or ranges.setdefault(span, range_of(text, *span))
        items.append(types.CompletionItem(
            label=choice.key,
            kind=types.CompletionItemKind.Reference,
            detail=choice.detail,
            documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=choice.documentation)
            if choice.documentation else None,
            sort_text=f"{choice.rank:05d}",
            filter_text=choice.filter_text,
            preselect=choice.rank == 0 or None,
            text_edit=types.TextEdit(range=edit_range, new_text=choice.key),
            data=None if choice.resolved else {"uri": uri, "key": choice.key},
            # a library entry: the editor runs this after inserting the key, the server adds the entry to the .bib
            command=types.Command(title=f"add {choice.key} to the .bib", command=ADD_TO_BIB_COMMAND,
                                  arguments=command_arguments(uri, choice.key, choice.library_key))
            if choice.library_key else None,
        ))
    return types.CompletionList(is_incomplete=result.incomplete, items=items)


def diagnostic_of(text: str, finding: Finding) -> types.Diagnostic:
    return types.Diagnostic(
        range=range_of(text, finding.start, finding.end),
        message=finding.message,
        severity=_SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.code,
        source=SOURCE,
    )


def bib_diagnostic_of(finding: BibFinding) -> types.Diagnostic:
    """A .bib problem on its whole line (line 0 -- the whole file -- shows on the first line)."""
    line = max(0, finding.line - 1)
    return types.Diagnostic(
        range=types.Range(start=types.Position(line=line, character=0), end=types.Position(line=line + 1, character=0)),
        message=finding.message,
        severity=_SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.code,
        source=SOURCE,
    )


def location_of(place: Place, uri: str) -> types.Location:
    start = lsp_from_offset(place.line_text, place.start_col)[1]
    end = lsp_from_offset(place.line_text, place.end_col)[1]
    return types.Location(
        uri=uri,
        range=types.Range(start=types.Position(line=place.line, character=start),
                          end=types.Position(line=place.line, character=end)),
    )
