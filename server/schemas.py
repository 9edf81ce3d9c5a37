"""Request and response models of the HTTP contract (issue 3); the names are fixed, other tools depend on them.

Why pydantic models although the engine returns dataclasses with ``to_dict()``: they validate input at the edge
(422 ``invalid_request`` with a readable message) and they make ``/docs`` show the real contract. Responses are
``Suggestion.to_dict()`` validated against the models below, so a drift between engine and contract fails loudly
in the tests instead of in an editor.
"""

from __future__ import annotations

from typing import Any

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


class _BibliographySource(BaseModel):
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


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail


class HealthResponse(BaseModel):
    status: str
