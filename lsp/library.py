"""Library entries in the completion menu: choosing one also adds its BibTeX to the paper's .bib.

Why a command: a completion item's own edits (``textEdit``, ``additionalTextEdits``) may only touch the document
being completed, and the entry belongs in another file (refs.bib). LSP's way is the item's ``command``: the editor
runs it right after inserting the key (``workspace/executeCommand``), and the server answers by sending
``workspace/applyEdit`` with the .bib edit, which the editor applies to the .bib (to its buffer when it is open,
so it is one more undoable change there). The edit is planned when the command runs, against the .bib's current
text (the open buffer, else the file), with ``citations.library``'s ``plan_append``: the same text
``startref annotate --library`` writes, and nothing when the entry (its key or its work) is already there.
A client without ``workspace/applyEdit`` gets the file written on disk instead (atomically, as the CLI does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from startref.citations.errors import StartrefError
from pygls.uris import from_fs_path, to_fs_path

from startref.citations.library import BibEdit, BibTarget, LibraryError, apply_append, plan_append
from startref.citations.library.ranking import target_for

from . import documents

__all__ = ["ADD_TO_BIB_COMMAND", "BibAddition", "library_key_of", "command_arguments", "plan_addition",
           "write_addition"]

#: ``workspace/executeCommand`` name a library item's ``command`` carries.
ADD_TO_BIB_COMMAND = "startref.addToBib"


@dataclass(frozen=True)
class BibAddition:
    """What to add where: the .bib (path), the text to insert at ``line``/``character`` (UTF-16, the end of its
    current text), the cite key; ``reason`` instead says why nothing is added."""

    path: str | None
    line: int = 0
    character: int = 0
    text: str = ""
    key: str = ""
    start: int = 0
    reason: str | None = None


def library_key_of(engine: Any, row: Any) -> str | None:
    """The key a library row has in the library (the menu shows the key it gets in the paper, which may differ)."""
    library, _warning = engine.library_or_warning()
    if library is None:
        return None
    pos = getattr(row.entry, "position", -1)
    if 0 <= pos < len(library.index.entries):
        return str(library.index.entries[pos].key)
    return None


def command_arguments(uri: str, key: str, library_key: str) -> list[dict[str, str]]:
    """The command's one argument: the document, the key inserted there, and the entry's key in the library."""
    return [{"uri": uri, "key": key, "libraryKey": library_key}]


def plan_addition(engine: Any, spec: dict[str, Any], snapshot: Callable[[str], str | None],
                  append_to: str | None = None) -> BibAddition:
    """The .bib addition for a chosen library item (``spec`` from ``command_arguments``).

    ``snapshot(path)`` gives the editor's text of a file it has open (else None: the file on disk is read).
    """
    key, library_key = str(spec.get("key") or ""), str(spec.get("libraryKey") or "")
    uri = str(spec.get("uri") or "")
    if not key or not library_key or not uri:
        return BibAddition(None, reason="expected [{uri, key, libraryKey}]")
    library, warning = engine.library_or_warning()
    if library is None:
        return BibAddition(None, reason=warning or "no library is configured")
    entry = library.index.get(library_key)
    if entry is None:
        return BibAddition(None, reason=f"{library_key} is no longer in your library")
    fs_path = to_fs_path(uri) if uri.startswith("file:") else None
    path = Path(fs_path) if fs_path else None
    text = snapshot(uri)
    if text is None and path is not None and path.is_file():
        text = path.read_text(encoding="utf-8", errors="replace")
    text = text or ""
    lookup = documents.bibliography_of(engine, path, text)
    if lookup.index is None:
        return BibAddition(None, reason=lookup.error or "the document has no bibliography to add to")
    try:
        target = target_for(lookup.index, append_to)
    except (StartrefError, LibraryError, OSError) as err:
        return BibAddition(None, reason=str(err))
    if target is None:
        return BibAddition(None, reason="the document names no .bib file to add to")
    bib_uri = from_fs_path(str(Path(target.name).resolve()))
    buffer = snapshot(bib_uri) if bib_uri else None
    if buffer is not None:  # the editor's unsaved text is what the edit must fit
        target = BibTarget(target.name, buffer, target.exact)
    try:
        edit = plan_append(target, [(key, replace(entry, key=key))])
    except StartrefError as err:
        return BibAddition(target.name, reason=str(err))
    if edit is None:
        return BibAddition(target.name, key=key, reason=f"{key} is already in {Path(target.name).name}")
    return BibAddition(target.name, edit.line, edit.character, edit.text, key, edit.start)


def write_addition(addition: BibAddition) -> None:
    """Write the addition into the .bib on disk (for a client that cannot apply edits): atomically, refusing
    when the file changed since it was planned."""
    assert addition.path is not None
    edit = BibEdit(addition.path, addition.start, addition.start, addition.line, addition.character, addition.text,
                   addition.key)
    apply_append(addition.path, edit)

