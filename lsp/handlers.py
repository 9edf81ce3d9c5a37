"""The LSP methods, each a few lines: read the document, call one feature module, convert the answer.

Why separate from ``server``: the server object (state: engine, loading, timers) and the list of methods change
for different reasons; a new feature is one handler here plus its own module.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path

from startref.citations.errors import StartrefError

from . import actions, completion, convert, definition, documents, hover, library, quickfix
from .server import SUGGEST_COMMAND, StartrefLanguageServer, guarded

__all__ = ["register"]

_PROGRESS_TOKEN = "startref/loading-models"
#: With ``startref.check.run = "onType"``: audit again after this much quiet (the audit ranks every citation).
TYPE_DELAY_S = 1.5


def _progress_supported(ls: StartrefLanguageServer) -> bool:
    window = ls.client_capabilities.window
    return bool(window is not None and window.work_done_progress)


def _watch_supported(ls: StartrefLanguageServer) -> bool:
    ws = ls.client_capabilities.workspace
    watched = ws.did_change_watched_files if ws is not None else None
    return bool(watched is not None and watched.dynamic_registration)


def register(server: StartrefLanguageServer) -> None:
    """Register every handler on ``server``."""

    @server.feature(types.INITIALIZE)
    def initialize(ls: StartrefLanguageServer, params: types.InitializeParams) -> None:
        ls.apply_settings(params.initialization_options)
        ls.start_loading()

    @server.feature(types.INITIALIZED)
    async def initialized(ls: StartrefLanguageServer, params: types.InitializedParams) -> None:
        ls.loop = asyncio.get_running_loop()
        asyncio.ensure_future(_report_loading(ls))
        if _watch_supported(ls):
            await ls.client_register_capability_async(types.RegistrationParams(registrations=[types.Registration(
                id="startref-bib-watcher",
                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(
                    watchers=[types.FileSystemWatcher(glob_pattern="**/*.bib")]),
            )]))
        await _pull_settings(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def changed_configuration(ls: StartrefLanguageServer, params: types.DidChangeConfigurationParams) -> None:
        if isinstance(params.settings, dict) and params.settings:
            ls.apply_settings(params.settings)
        else:  # the client says "something changed": ask it (workspace/configuration), as VS Code-style clients expect
            await _pull_settings(ls)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: StartrefLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule_diagnostics(params.text_document.uri, delay=0.0)
        ls.schedule_audit(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: StartrefLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule_diagnostics(params.text_document.uri)
        if ls.check_settings.run == "onType":
            ls.schedule_audit(params.text_document.uri, delay=TYPE_DELAY_S)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: StartrefLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri.lower().endswith(".bib"):
            ls.refresh_all()
        else:
            ls.schedule_diagnostics(uri, delay=0.0)
            ls.schedule_audit(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: StartrefLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.cancel_diagnostics(params.text_document.uri)
        ls.audits.cancel(params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: StartrefLanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
        if any(change.uri.lower().endswith(".bib") for change in params.changes):
            ls.refresh_all()

    @server.feature(types.TEXT_DOCUMENT_COMPLETION,
                    types.CompletionOptions(trigger_characters=["{", ","], resolve_provider=True))
    @server.thread()
    @guarded(None)
    def complete(ls: StartrefLanguageServer, params: types.CompletionParams) -> types.CompletionList | None:
        uri = params.text_document.uri
        text, path = ls.snapshot(uri)
        offset = ls.offset_of(text, params.position, uri)
        if offset is None or completion.cite_slot(text, offset) is None:
            return None
        lookup = documents.bibliography_of(ls.engine, path, text)
        if lookup.index is None:
            ls.log_line(f"completion: {lookup.error}")
            return None
        if not ls.wait_ready():
            return None
        result = completion.complete(ls.engine, text, offset, lookup.files)
        if result is None:
            return None
        ls.keep_ranking(uri, result.ranking)
        return convert.completion_list(text, result, uri)

    @server.feature(types.COMPLETION_ITEM_RESOLVE)
    @server.thread()
    def resolve(ls: StartrefLanguageServer, item: types.CompletionItem) -> types.CompletionItem:
        data = item.data if isinstance(item.data, dict) else None
        if not data:
            return item
        try:
            ranking = ls.kept_ranking(str(data.get("uri")))
            doc = completion.resolve_documentation(ls.engine, ranking, str(data.get("key"))) if ranking else None
        except Exception as err:
            ls.log_line(f"completionItem/resolve failed: {type(err).__name__}: {err}", types.MessageType.Error)
            doc = None
        if doc:
            item.documentation = types.MarkupContent(kind=types.MarkupKind.Markdown, value=doc)
        return item

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix,
                                                               types.CodeActionKind.Refactor]))
    @server.thread()
    @guarded([])
    def code_action(ls: StartrefLanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        text, path = ls.snapshot(uri)
        only = params.context.only
        fixes = _quick_fixes(ls, uri, text, path, params) if not only or types.CodeActionKind.QuickFix in only else []
        if only and types.CodeActionKind.Refactor not in only:
            return fixes
        offset = ls.offset_of(text, params.range.start, uri)
        if offset is None or completion.cite_slot(text, offset) is not None:
            return fixes
        lookup = documents.bibliography_of(ls.engine, path, text)
        if lookup.index is None or not ls.wait_ready():
            return fixes
        out: list[types.CodeAction] = list(fixes)
        for action in actions.cite_actions(ls.engine, text, offset, lookup.files):
            edit = types.TextEdit(range=convert.range_of(text, action.start, action.end), new_text=action.new_text)
            out.append(types.CodeAction(title=action.title, kind=types.CodeActionKind.Refactor,
                                        edit=types.WorkspaceEdit(changes={uri: [edit]})))
        return out

    @server.command(SUGGEST_COMMAND)
    @server.thread()
    def suggest(ls: StartrefLanguageServer, *args: Any) -> dict[str, Any] | None:
        return _suggest(ls, list(args))

    @server.command(library.ADD_TO_BIB_COMMAND)
    async def add_to_bib(ls: StartrefLanguageServer, *args: Any) -> dict[str, Any]:
        return await _add_to_bib(ls, list(args))

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @server.thread()
    @guarded(None)
    def on_hover(ls: StartrefLanguageServer, params: types.HoverParams) -> types.Hover | None:
        found = _key_under_cursor(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        text, key, index = found
        markdown = hover.hover_markdown(index, key.key)
        if markdown is None:
            return None
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown),
                           range=convert.range_of(text, key.start, key.end))

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    @server.thread()
    @guarded(None)
    def on_definition(ls: StartrefLanguageServer, params: types.DefinitionParams) -> types.Location | None:
        found = _key_under_cursor(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        _text, key, index = found
        place = definition.definition_of(index, key.key)
        if place is None:
            return None
        uri = from_fs_path(str(Path(place.file).resolve()))
        return convert.location_of(place, uri) if uri else None


def _quick_fixes(ls: StartrefLanguageServer, uri: str, text: str, path: Path | None,
                 params: types.CodeActionParams) -> list[types.CodeAction]:
    """"Replace with `key`" for the startref diagnostics the client sent in the context."""
    ours = [d for d in params.context.diagnostics if d.source == convert.SOURCE and d.code in quickfix.FIXABLE_CODES]
    if not ours:
        return []
    lookup = documents.bibliography_of(ls.engine, path, text)
    _syntax, cites = documents.cites_of(text)
    out = []
    for fix in quickfix.key_fixes(text, cites, ours, lookup.index):
        edit = types.TextEdit(range=convert.range_of(text, fix.start, fix.end), new_text=fix.new_key)
        out.append(types.CodeAction(title=fix.title, kind=types.CodeActionKind.QuickFix, diagnostics=[fix.diagnostic],
                                    is_preferred=fix.preferred or None,
                                    edit=types.WorkspaceEdit(changes={uri: [edit]})))
    return out


async def _pull_settings(ls: StartrefLanguageServer) -> None:
    """Ask a client that supports ``workspace/configuration`` for the ``startref`` section."""
    ws = ls.client_capabilities.workspace
    if ws is None or not ws.configuration:
        return
    try:
        answer = await ls.workspace_configuration_async(types.ConfigurationParams(
            items=[types.ConfigurationItem(section="startref")]))
    except Exception as err:
        ls.log_line(f"workspace/configuration failed: {err}")
        return
    if answer and isinstance(answer[0], dict):
        ls.apply_settings({"startref": answer[0]})


def _key_under_cursor(ls: StartrefLanguageServer, uri: str, position: types.Position) -> Any:
    """(text, KeyAt, index) for the key under the cursor, or None."""
    text, path = ls.snapshot(uri)
    offset = ls.offset_of(text, position, uri)
    if offset is None:
        return None
    key = documents.key_at(text, offset)
    if key is None:
        return None
    lookup = documents.bibliography_of(ls.engine, path, text)
    if lookup.index is None:
        ls.log_line(f"{uri}: {lookup.error}")
        return None
    return text, key, lookup.index


def _suggest(ls: StartrefLanguageServer, args: list[Any]) -> dict[str, Any] | None:
    """``startref.suggest``: arguments ``[{textDocument: {uri}, position, k?, command?}]`` or ``[uri, position]``."""
    try:
        if len(args) == 1 and isinstance(args[0], dict):
            spec = args[0]
            uri = (spec.get("textDocument") or {}).get("uri") or spec.get("uri")
            pos = spec.get("position") or {}
        elif len(args) >= 2:
            uri, pos, spec = args[0], args[1], {}
        else:
            raise ValueError("expected [{textDocument: {uri}, position}] or [uri, position]")
        position = types.Position(line=int(pos["line"]), character=int(pos["character"]))
        text, path = ls.snapshot(str(uri))
        offset = ls.offset_of(text, position, str(uri))
        if offset is None:
            return None
        lookup = documents.bibliography_of(ls.engine, path, text)
        if lookup.index is None:
            ls.log_line(f"{SUGGEST_COMMAND}: {lookup.error}", types.MessageType.Warning)
            return None
        if not ls.wait_ready():
            return None
        result = actions.suggest_at(ls.engine, text, offset, lookup.files, k=int(spec.get("k", 5)),
                                    command=spec.get("command"))
        body = result.to_dict()
        if result.insert is not None:
            body["insert"]["range"] = convert.range_of(text, result.insert.start, result.insert.end)
        return body
    except Exception as err:
        ls.log_line(f"{SUGGEST_COMMAND} failed: {type(err).__name__}: {err}", types.MessageType.Warning)
        return None


async def _add_to_bib(ls: StartrefLanguageServer, args: list[Any]) -> dict[str, Any]:
    """``startref.addToBib`` (a library item's command): plan the .bib addition off the event loop, then ask the
    editor to apply it (``workspace/applyEdit``), or write the file when the editor cannot apply edits."""
    spec = args[0] if len(args) == 1 and isinstance(args[0], dict) else {}

    def open_text(uri: str) -> str | None:
        return ls.workspace.text_documents[uri].source if uri in ls.workspace.text_documents else None

    def plan() -> library.BibAddition:
        if not ls.wait_ready():
            return library.BibAddition(None, reason="the models did not load")
        return library.plan_addition(ls.engine, spec, open_text, ls.append_to)

    addition = await asyncio.get_running_loop().run_in_executor(None, plan)
    answer: dict[str, Any] = {"added": False, "key": addition.key or spec.get("key"), "file": addition.path}
    if addition.reason is not None or addition.path is None:
        ls.log_line(f"{library.ADD_TO_BIB_COMMAND}: nothing added: {addition.reason}")
        return {**answer, "reason": addition.reason}
    workspace = ls.client_capabilities.workspace
    if workspace is not None and workspace.apply_edit:
        at = types.Position(line=addition.line, character=addition.character)
        bib_uri = from_fs_path(str(Path(addition.path).resolve()))
        result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
            label=f"startref: add {addition.key} to {Path(addition.path).name}",
            edit=types.WorkspaceEdit(changes={bib_uri: [types.TextEdit(range=types.Range(start=at, end=at),
                                                                       new_text=addition.text)]})))
        if not result.applied:
            ls.log_line(f"{library.ADD_TO_BIB_COMMAND}: the editor did not apply the edit: {result.failure_reason}",
                        types.MessageType.Warning)
            return {**answer, "reason": result.failure_reason or "the editor refused the edit"}
        return {**answer, "added": True, "how": "workspace/applyEdit"}
    try:
        await asyncio.get_running_loop().run_in_executor(None, library.write_addition, addition)
    except (StartrefError, OSError) as err:
        ls.log_line(f"{library.ADD_TO_BIB_COMMAND}: {err}", types.MessageType.Warning)
        return {**answer, "reason": str(err)}
    return {**answer, "added": True, "how": "written to disk"}


async def _report_loading(ls: StartrefLanguageServer) -> None:
    """Work-done progress while the models load: "loading models…", then "ready" (or why not)."""
    supported = _progress_supported(ls) and not ls.ready.is_set()
    if supported:
        try:
            await ls.work_done_progress.create_async(_PROGRESS_TOKEN)
            ls.work_done_progress.begin(_PROGRESS_TOKEN, types.WorkDoneProgressBegin(
                title="startref", message="loading models…", cancellable=False))
        except Exception as err:  # a client that refuses the token still gets the log line
            ls.log_line(f"no progress report: {err}")
            supported = False
    shown: str | None = None
    while True:  # the library's first index reports its progress meanwhile (its last step too, however quick)
        done = await asyncio.get_running_loop().run_in_executor(None, ls.ready.wait, 0.5)
        note = ls.loading_message
        if supported and note and note != shown:
            shown = note
            ls.work_done_progress.report(_PROGRESS_TOKEN, types.WorkDoneProgressReport(message=note))
        if done:
            break
    message = f"models ready in {ls.loaded_after_s or 0:.1f} s" if ls.load_error is None else f"models failed: {ls.load_error}"
    if supported:
        ls.work_done_progress.end(_PROGRESS_TOKEN, types.WorkDoneProgressEnd(message=message))
    ls.log_line(message, types.MessageType.Info if ls.load_error is None else types.MessageType.Error)
