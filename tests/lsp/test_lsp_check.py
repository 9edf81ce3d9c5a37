"""``startref check`` inside ``startref lsp``: a real server over stdio (pytest-lsp) on a real dev paper with an
injected wrong key, its diagnostic, the "Replace with `key`" quick fix, and the ``startref.check.*`` settings.

The injected swap: the paper's ``\\citep{PedrEtal11}`` (scikit-learn, for the classifier) becomes
``\\citep{HughEtal12}`` (a stylometry paper): ``startref check`` flags it at the default sensitivity (its suspicion
is well above the default threshold, -1.15 in ``citations/audit/suspicion.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from lspcase import copy_paper, server_command, server_env

pytestmark = pytest.mark.asyncio(loop_scope="module")

GENUINE = r"\citep{PedrEtal11}"
SWAPPED = r"\citep{HughEtal12}"


@pytest.fixture(scope="module")
def paper(bench_papers: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_paper(bench_papers, tmp_path_factory.mktemp("lsp-check"))


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=server_command(), server_env=server_env()))
async def client(lsp_client: LanguageClient, paper: Path):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("neovim@v0.7.0"),
        root_uri=from_fs_path(str(paper.parent)),
        initialization_options={"check": {"sensitivity": "default"}},
    ))
    yield
    await lsp_client.shutdown_session()


def _document(paper: Path, name: str, text: str) -> Path:
    """A sibling of main.tex (same folder, same .bib) holding ``text``."""
    path = paper.parent / name
    path.write_text(text, encoding="utf-8")
    return path


def _open(client: LanguageClient, path: Path, text: str) -> str:
    uri = from_fs_path(str(path))
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="latex", version=1, text=text)))
    return uri


async def _until(client: LanguageClient, uri: str, ok: Callable[[list[types.Diagnostic]], bool],
                 timeout: float = 180.0) -> list[types.Diagnostic]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = list(client.diagnostics.get(uri, []))
        if ok(found):
            return found
        if loop.time() > deadline:
            raise AssertionError(f"diagnostics never matched; last: {[(d.code, d.range.start) for d in found]}")
        await asyncio.sleep(0.1)


def _miscitations(found: list[types.Diagnostic]) -> list[types.Diagnostic]:
    return [d for d in found if d.code == "possible_miscitation"]


def _line_col(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset), offset - (text.rfind("\n", 0, offset) + 1)


async def _open_swapped(client: LanguageClient, paper: Path, name: str) -> tuple[str, str, int, int, int]:
    """The paper with the injected key, opened as ``name``: (uri, text, line, start, end of the key), once its
    warning is published."""
    original = (paper.parent / "main.tex").read_text(encoding="utf-8")
    text = original.replace(GENUINE, SWAPPED, 1)
    uri = _open(client, _document(paper, name, text), text)
    line, start, end = _swapped_key_range(original)
    await _until(client, uri, lambda ds: any(d.range.start.line == line and d.range.start.character == start
                                             for d in _miscitations(ds)))
    return uri, text, line, start, end


def _swapped_key_range(text: str) -> tuple[int, int, int]:
    """Where the injected key stands (the paper cites HughEtal12 genuinely earlier: find the swapped spot)."""
    at = text.index(GENUINE) + len(r"\citep{")
    line, col = _line_col(text, at)
    return line, col, col + len("HughEtal12")


async def test_an_injected_wrong_key_is_a_warning_with_a_preferred_quick_fix(client: LanguageClient, paper: Path) -> None:
    uri, _text, line, start, end = await _open_swapped(client, paper, "swapped.tex")
    at_swap = lambda d: d.range.start.line == line and d.range.start.character == start  # noqa: E731
    found = list(client.diagnostics[uri])
    diag = next(d for d in _miscitations(found) if at_swap(d))
    assert diag.severity == types.DiagnosticSeverity.Warning and diag.source == "startref"
    assert diag.range.end == types.Position(line=line, character=end)
    assert "did you mean" in diag.message and "`HughEtal12`" in diag.message
    assert len(_miscitations(found)) <= 3, [d.message[:80] for d in _miscitations(found)]  # not a flood of flags
    suggested = diag.data["replacements"][0]

    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diag.range,
        context=types.CodeActionContext(diagnostics=[diag])))
    fixes = [a for a in actions or [] if isinstance(a, types.CodeAction) and a.kind == types.CodeActionKind.QuickFix]
    assert fixes and fixes[0].title == f"Replace with `{suggested}`" and fixes[0].is_preferred
    (edit,) = fixes[0].edit.changes[uri]
    assert edit.range == diag.range and edit.new_text == suggested
    assert list(fixes[0].diagnostics) == [diag]
    # Asking for refactorings only leaves the quick fix out.
    only_refactor = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diag.range,
        context=types.CodeActionContext(diagnostics=[diag], only=[types.CodeActionKind.Refactor])))
    assert not [a for a in only_refactor or [] if a.kind == types.CodeActionKind.QuickFix]


async def test_the_diagnostic_follows_its_key_while_typing_and_leaves_with_it(client: LanguageClient, paper: Path) -> None:
    uri, _text, line, start, _end = await _open_swapped(client, paper, "moving.tex")
    # Two lines typed at the top (no save: the audit does not rerun): the warning moves down with its key.
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
            text="% one\n% two\n")]))
    await _until(client, uri, lambda ds: any(d.range.start.line == line + 2 and d.range.start.character == start
                                             for d in _miscitations(ds)))
    # The key replaced by hand: its warning goes at the next publish, before any new audit.
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=line + 2, character=start),
                              end=types.Position(line=line + 2, character=start + len("HughEtal12"))),
            text="PedrEtal11")]))
    await _until(client, uri, lambda ds: not any(d.range.start.line == line + 2 for d in _miscitations(ds)))


async def test_an_undefined_key_offers_the_closest_key(client: LanguageClient, paper: Path) -> None:
    text = (paper.parent / "main.tex").read_text(encoding="utf-8").replace(GENUINE, r"\citep{PedrEtal1}", 1)
    uri = _open(client, _document(paper, "undefined.tex", text), text)
    found = await _until(client, uri, lambda ds: any(d.code == "undefined_key" for d in ds), timeout=60)
    diag = next(d for d in found if d.code == "undefined_key")
    assert diag.severity == types.DiagnosticSeverity.Error
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diag.range,
        context=types.CodeActionContext(diagnostics=[diag])))
    fixes = [a for a in actions or [] if a.kind == types.CodeActionKind.QuickFix]
    assert fixes[0].title == "Replace with `PedrEtal11`" and fixes[0].is_preferred
    assert all(not f.is_preferred for f in fixes[1:])
    assert fixes[0].edit.changes[uri][0].range == diag.range


async def test_settings_turn_the_check_off_and_on(client: LanguageClient, paper: Path) -> None:
    uri, _text, line, _start, _end = await _open_swapped(client, paper, "settings.tex")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"startref": {"check": {"enabled": False}}}))
    await _until(client, uri, lambda ds: not _miscitations(ds) and all(d.source == "startref" for d in ds))
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"startref.check.enabled": True, "startref.check.sensitivity": "high"}))
    found = await _until(client, uri, lambda ds: any(d.range.start.line == line for d in _miscitations(ds)))
    # At "high", flags that the default sensitivity would not raise are hints, not warnings.
    assert all(d.severity in (types.DiagnosticSeverity.Warning, types.DiagnosticSeverity.Hint) for d in _miscitations(found))
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"startref": {"check": {"sensitivity": "default"}}}))
