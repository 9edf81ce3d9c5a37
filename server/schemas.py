"""Request and response models of the HTTP contract (issue 3); the names are fixed, other tools depend on them.

Why pydantic models although the engine returns dataclasses with ``to_dict()``: they validate input at the edge
(422 ``invalid_request`` with a readable message) and they make ``/docs`` show the real contract. Responses are
``Suggestion.to_dict()`` validated against the models below, so a drift between engine and contract fails loudly
in the tests instead of in an editor.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "Position",
    "SuggestRequest",
    "AnnotateRequest",
    "CandidateModel",
    "EditModel",
    "BibEditModel",
    "BibliographyModel",
    "SuggestResponse",
    "AnnotateEditModel",
    "AnnotateResponse",
    "ErrorDetail",
    "ErrorResponse",
    "HealthResponse",
    "MAX_K",
    "CheckRequest",
    "CheckResponse",
    "FindingModel",
    "LocationModel",
]

MAX_K = 50

_COMMAND = Field(
    default=None,
    max_length=64,
    pattern=r"^\\?[A-Za-z]+\*?$",
    description="Cite command to insert (e.g. `citep`); default: the document's dominant command.",
)


class Position(BaseModel):
    """An LSP position: zero-based line, ``character`` in UTF-16 code units (as VS Code and LSP send it)."""

    line: int = Field(ge=0)
    character: int = Field(ge=0)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _find_surrogate(value: Any, where: str) -> str | None:
    """Where in a decoded JSON value a lone surrogate sits ("text: character 4"), or None."""
    if isinstance(value, str):
        m = _LONE_SURROGATE.search(value)
        return f"{where}: character {m.start()}" if m else None
    if isinstance(value, dict):
        for k, v in value.items():
            found = _find_surrogate(k, where) or _find_surrogate(v, f"{where}.{k}" if where else str(k))
            if found:
                return found
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = _find_surrogate(v, f"{where}[{i}]")
            if found:
                return found
    return None


class _Request(BaseModel):
    """Base of every request body: no string anywhere in it may hold a lone UTF-16 surrogate.

    Why here, once: JSON allows ``"\\ud800"`` escapes that decode to a lone surrogate, which is not a character —
    it cannot be encoded as UTF-8, so any later ``.encode()`` (tokenizer, hashing, a file path) would fail with a
    500. Checking the raw body here covers every field, present and future, with one 422.
    """

    @model_validator(mode="before")
    @classmethod
    def _no_lone_surrogates(cls, data: Any) -> Any:
        found = _find_surrogate(data, "")
        if found:
            raise ValueError(f"{found.lstrip(': ')} is a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape), "
                             "not a character; send valid Unicode")
        return data


class _BibliographySource(_Request):
    """Fields shared by every request that needs a bibliography. Precedence: bib_text > bib > discovery from path."""

    text: str = Field(description="The current LaTeX buffer, possibly unsaved.")
    path: str | None = Field(default=None, description="The buffer's .tex file on disk (root and .bib discovery).")
    bib: list[str] | None = Field(default=None, description=".bib files to use instead of discovery.")
    bib_text: str | None = Field(default=None, description="Bibliography content sent inline (e.g. Overleaf).")
    command: str | None = _COMMAND
    library: bool | None = Field(default=None, description="Rank the server's library too (default: when the "
                                 "server has one). Library entries come back with `in_bib: false` and a `bib_edit`.")
    append_to: str | None = Field(default=None, description="The .bib that receives library entries (default: the "
                                  "first one of the bibliography).")

    @field_validator("command")
    @classmethod
    def _bare_command(cls, value: str | None) -> str | None:
        """``\\citep`` and ``citep`` mean the same; the engine takes the bare name."""
        return value.lstrip("\\") if value else None


class SuggestRequest(_BibliographySource):
    """``POST /v1/suggest``: where is the cursor, and which bibliography to rank."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "text": "Minimizers were introduced by Roberts~\\cite{", "cursor": 44,
        "path": "/home/me/paper/main.tex", "k": 5}]})

    cursor: int | None = Field(default=None, ge=0, description="Offset in Unicode code points (Python str index).")
    position: Position | None = Field(default=None, description="Instead of cursor: LSP position (UTF-16).")
    k: int = Field(default=5, ge=1, le=MAX_K, description="How many candidates to return.")

    @model_validator(mode="after")
    def _one_cursor(self) -> SuggestRequest:
        if (self.cursor is None) == (self.position is None):
            raise ValueError("give exactly one of 'cursor' (code points) or 'position' {line, character}")
        return self


class AnnotateRequest(_BibliographySource):
    """``POST /v1/annotate``: fill every placeholder (the CLI's ``annotate`` placeholders) in ``text``."""

    keep_k: int = Field(default=0, ge=0, le=MAX_K, description="Runners-up to keep per edit.")


class BibEditModel(BaseModel):
    """Insert ``text`` into the .bib ``file`` at ``start`` (== ``end``, code points) = ``line``/``character``
    (0-based, UTF-16, for LSP editors): it appends the library entry(ies) ``key`` (comma-separated)."""

    file: str
    start: int
    end: int
    line: int
    character: int
    text: str
    key: str


class CandidateModel(BaseModel):
    key: str
    title: str
    authors: str
    year: str
    score: float
    why: str = ""
    generated: str | None = None
    in_bib: bool = Field(default=True, description="False: from your library; choosing it applies `bib_edit`.")
    source: str = Field(default="", description="The .bib file, or `bib:PATH` / `zotero:PATH` of a library.")
    bib_edit: BibEditModel | None = None


class EditModel(BaseModel):
    """Replace ``text[start:end]`` (code points) with ``text``."""

    start: int
    end: int
    text: str


class BibliographyModel(BaseModel):
    files: list[str]
    entries: int
    problems: list[dict[str, Any]] = Field(default_factory=list,
                                           description="Each {file, line, kind, message}.")


class SuggestResponse(BaseModel):
    candidates: list[CandidateModel]
    insert: EditModel | None
    bib_edit: BibEditModel | None = Field(default=None, description="Goes with `insert` when the best candidate "
                                          "is a library entry: appends it to the paper's .bib.")
    unresolved: list[str]
    bibliography: BibliographyModel
    model: dict[str, str | None]
    timing_ms: dict[str, float]
    warnings: list[str] = Field(default_factory=list)
    generator_error: str | None = Field(
        default=None, description="Why the LM stage was skipped (model server down, slow or refusing): the "
        "candidates then come from the ranker alone. Null when the LM stage ran or is off.")


class AnnotateEditModel(BaseModel):
    start: int
    end: int
    line: int
    old: str
    new: str
    candidates: list[CandidateModel]


class AnnotateResponse(BaseModel):
    text: str
    edits: list[AnnotateEditModel]
    bib_edit: BibEditModel | None = None
    bibliography: BibliographyModel
    warnings: list[str] = Field(default_factory=list)
    generator_error: str | None = Field(default=None, description="As in SuggestResponse, for any placeholder.")


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail


class HealthResponse(BaseModel):
    status: str


class CheckRequest(_Request):
    """``POST /v1/check``: audit a document's citations (``startref check``). ``text`` is the buffer of ``path``
    (unsaved changes); with only ``path`` the file is read from disk; with only ``text`` it is one file whose
    inputs are not followed. The bibliography: ``bib_text`` > ``bib`` > discovery from ``path``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "path": "/home/me/paper/main.tex", "sensitivity": "default", "min_severity": "warning"}]})

    text: str | None = Field(default=None, description="The buffer of `path` (or the whole document without one).")
    path: str | None = Field(default=None, description="A .tex file of the document; its % !TEX root is followed.")
    bib: list[str] | None = Field(default=None, description=".bib files to use instead of discovery.")
    bib_text: str | None = Field(default=None, description="Bibliography content sent inline.")
    sensitivity: Literal["low", "default", "high"] = Field(
        default="default", description="How readily a citation is called a possible mis-citation.")
    min_severity: Literal["error", "warning", "info"] = Field(
        default="warning", description="Return findings at this severity or worse (info adds unused entries).")

    @model_validator(mode="after")
    def _text_or_path(self) -> CheckRequest:
        if self.text is None and self.path is None:
            raise ValueError("give 'text', 'path' or both")
        return self


class LocationModel(BaseModel):
    """1-based line/column (code points), end exclusive; offsets into the file's text (null for a .bib entry)."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    offset: int | None = None
    end_offset: int | None = None


class ReplacementModel(BaseModel):
    location: LocationModel
    text: str


class RelatedModel(BaseModel):
    location: LocationModel
    message: str


class FindingModel(BaseModel):
    code: str = Field(description="possible_miscitation, undefined_key, same_work_two_keys, duplicate_entry, "
                                  "duplicate_key, incomplete_entry, bib_parse_error, bib_problem, unused_entry")
    severity: Literal["error", "warning", "info"]
    message: str
    location: LocationModel
    key: str | None = None
    replacements: list[ReplacementModel] = Field(default_factory=list)
    related: list[RelatedModel] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)


class CheckSummaryModel(BaseModel):
    citations: int
    keys_cited: int
    checked: int
    findings: int
    error: int
    warning: int
    info: int


class CheckResponse(BaseModel):
    version: int
    root: str
    files: list[str]
    bibliography: BibliographyModel
    sensitivity: str
    summary: CheckSummaryModel
    findings: list[FindingModel]
    timing_ms: dict[str, float]
    warnings: list[str] = Field(default_factory=list)
