"""``startref lsp`` over stdio, driven by a real LSP client (pytest-lsp), on a real paper from shared/bench.

One server process serves the whole module (the models load once, a few seconds). Each test opens its own
document URI so they do not step on each other.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from lspcase import GOLD, MASKED_CITE, copy_paper, masked_text, server_command, server_env

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def paper(bench_papers: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_paper(bench_papers, tmp_path_factory.mktemp("lsp-paper"))


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=server_command(), server_env=server_env()))
async def client(lsp_client: LanguageClient, paper: Path):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("neovim@v0.7.0"),
        root_uri=from_fs_path(str(paper.parent)),
    ))
    yield
    await lsp_client.shutdown_session()


def _open(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    uri = from_fs_path(str(path))
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="latex", version=version, text=text)))
    return uri


def _pos(text: str, offset: int) -> types.Position:
    line = text.count("\n", 0, offset)
    col_text = text[text.rfind("\n", 0, offset) + 1 : offset]
    return types.Position(line=line, character=len(col_text.encode("utf-16-le")) // 2)


def _apply(text: str, edit: types.TextEdit) -> str:
    """Apply one LSP edit (UTF-16 positions) to ``text``."""
    lines = text.split("\n")

    def offset(p: types.Position) -> int:
        before = sum(len(l) + 1 for l in lines[: p.line])
        units, i, line = 0, 0, lines[p.line]
        while units < p.character:
            units += 2 if ord(line[i]) > 0xFFFF else 1
            i += 1
        return before + i

    return text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]


def _items(result: types.CompletionList | list | None) -> list[types.CompletionItem]:
    items = result.items if isinstance(result, types.CompletionList) else list(result or [])
    return sorted(items, key=lambda i: i.sort_text or i.label)


async def _wait_diagnostics(client: LanguageClient, uri: str, timeout: float = 20.0) -> list[types.Diagnostic]:
    deadline = asyncio.get_running_loop().time() + timeout
    while uri not in client.diagnostics:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no diagnostics published for {uri}")
        await asyncio.sleep(0.05)
    return list(client.diagnostics[uri])


async def _wait_log(client: LanguageClient, since: int, needle: str, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not any(needle in m.message for m in client.log_messages[since:]):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no log line with {needle!r}: {[m.message for m in client.log_messages[since:]]}")
        await asyncio.sleep(0.05)


async def test_masked_citation_gold_key_in_first_five(client: LanguageClient, paper: Path) -> None:
    text, cursor = masked_text(paper)
    uri = _open(client, paper.parent / "masked.tex", text)
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=_pos(text, cursor)))
    items = _items(result)
    labels = [i.label for i in items]
    assert GOLD & set(labels[:5]), labels[:5]
    assert len(items) == 59 and not result.is_incomplete  # every entry of custom.bib, ranked
    top = items[0]
    assert top.text_edit is not None and top.text_edit.new_text == top.label
    assert top.text_edit.range.start == _pos(text, cursor) == top.text_edit.range.end
    huang = next(i for i in items if i.label == "HuanEtal25")
    assert huang.detail == "Attributing authorship via the perplexity of authorial language models — Huang, Murakami, Grieve (2025)"
    assert "Huang" in huang.filter_text and "perplexity" in huang.filter_text and huang.filter_text.startswith("HuanEtal25")
    assert huang.documentation.kind == types.MarkupKind.Markdown and "PLOS One" in huang.documentation.value
    assert "*Why:*" in top.documentation.value  # the first ones carry the reason at once


async def test_models_load_with_progress(client: LanguageClient) -> None:
    reports = client.progress_reports.get("startref/loading-models")
    assert reports, client.progress_reports
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and "loading models" in reports[0].message
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)


async def test_after_comma_and_optional_args_and_resolve(client: LanguageClient, paper: Path) -> None:
    text = "\\documentclass{article}\n\\begin{document}\nPerplexity of authorial models~\\citep[see][p.~2]{HuanEtal25, }.\n\\bibliography{custom}\n\\end{document}\n"
    uri = _open(client, paper.parent / "comma.tex", text)
    cursor = text.index("HuanEtal25, ") + len("HuanEtal25, ")
    items = _items(await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=_pos(text, cursor))))
    labels = [i.label for i in items]
    assert "HuanEtal25" not in labels and len(labels) == 58  # the key already there is not proposed again
    lazy = next(i for i in items if i.data)  # beyond the first few, the why comes on resolve
    resolved = await client.completion_item_resolve_async(lazy)
    assert "*Why:*" in resolved.documentation.value or resolved.documentation.value.startswith("**")
    # typing a half key: the range covers what was typed
    text2 = text.replace("HuanEtal25, }", "HuanEtal25, Uche}")
    cursor2 = text2.index("Uche}") + 4
    _open(client, paper.parent / "comma2.tex", text2)
    items2 = _items(await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=from_fs_path(str(paper.parent / "comma2.tex"))),
        position=_pos(text2, cursor2))))
    edit = items2[0].text_edit
    assert edit.range.start == _pos(text2, cursor2 - 4) and edit.range.end == _pos(text2, cursor2)


async def test_no_completion_outside_cites(client: LanguageClient, paper: Path) -> None:
    text = "\\documentclass{article}\nPlain words here.\n\\bibliography{custom}\n"
    uri = _open(client, paper.parent / "plain.tex", text)
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=1, character=5)))
    assert not _items(result)


async def test_code_action_inserts_the_papers_own_citep(client: LanguageClient, paper: Path) -> None:
    text = paper.read_text(encoding="utf-8")
    at = text.index(MASKED_CITE)
    text = text[:at] + text[at + len(MASKED_CITE):]
    uri = _open(client, paper.parent / "action.tex", text)
    pos = _pos(text, at)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=types.Range(start=pos, end=pos),
        context=types.CodeActionContext(diagnostics=[])))
    assert len(actions) == 3 and all(a.title.startswith("Cite: ") for a in actions)
    edit = actions[0].edit.changes[uri][0]
    applied = _apply(text, edit)
    key = edit.new_text[len("\\citep{"):-1]
    assert edit.new_text == f"\\citep{{{key}}}" and applied[at : at + len(edit.new_text)] == edit.new_text
    assert any(a.edit.changes[uri][0].new_text[len("\\citep{"):-1] in GOLD for a in actions)
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="startref.suggest", arguments=[{"textDocument": {"uri": uri}, "position": {"line": pos.line, "character": pos.character}, "k": 3}]))
    assert [c["key"] for c in result["candidates"]][:1] == [key]
    assert result["insert"]["text"] == edit.new_text and result["insert"]["range"]["start"]["line"] == pos.line


async def test_hover_and_definition_point_at_the_bib_line(client: LanguageClient, paper: Path) -> None:
    text = paper.read_text(encoding="utf-8")
    uri = _open(client, paper.parent / "hover.tex", text)
    at = text.index(MASKED_CITE) + len("\\citep{Hu")
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=_pos(text, at)))
    assert "Attributing authorship via the perplexity" in hover.contents.value
    bib = paper.parent / "custom.bib"
    bib_lines = bib.read_text(encoding="utf-8").split("\n")
    line = next(i for i, l in enumerate(bib_lines) if l.startswith("@article{HuanEtal25"))
    assert f"custom.bib:{line + 1}" in hover.contents.value
    start = text.index(MASKED_CITE) + len("\\citep{")
    assert hover.range == types.Range(start=_pos(text, start), end=_pos(text, start + len("HuanEtal25")))
    found = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=_pos(text, at)))
    location = found[0] if isinstance(found, list) else found
    assert location.uri == from_fs_path(str(bib.resolve()))
    assert location.range.start == types.Position(line=line, character=len("@article{"))
    assert location.range.end.character == len("@article{HuanEtal25")


async def test_undefined_key_gets_one_diagnostic_with_closest_keys(client: LanguageClient, paper: Path) -> None:
    text = "\\documentclass{article}\n\\begin{document}\nAs shown~\\citep{HuanEtal25} and~\\citep{HuanEtal52}.\n\\bibliography{custom}\n\\end{document}\n"
    uri = _open(client, paper.parent / "undefined.tex", text)
    found = await _wait_diagnostics(client, uri)
    assert len(found) == 1, found
    d = found[0]
    assert d.severity == types.DiagnosticSeverity.Error and d.code == "undefined_key"
    assert "HuanEtal52" in d.message and "HuanEtal25" in d.message
    start = text.index("HuanEtal52")
    assert d.range == types.Range(start=_pos(text, start), end=_pos(text, start + len("HuanEtal52")))


async def test_utf16_positions_after_astral_characters(client: LanguageClient, paper: Path) -> None:
    text = "\\documentclass{article}\n\\begin{document}\nThe 𝔸𝔹 authorship 😀 attribution~\\citep{HuanEtal25} and~\\citep{Hu}.\n\\bibliography{custom}\n\\end{document}\n"
    uri = _open(client, paper.parent / "astral.tex", text)
    cursor = text.index("{Hu}") + 3
    pos = _pos(text, cursor)
    assert pos.character == cursor - (text.rfind("\n", 0, cursor) + 1) + 3  # three astral characters: +3 units
    items = _items(await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=pos)))
    edit = items[0].text_edit
    assert edit.range.start == _pos(text, cursor - 2) and edit.range.end == pos
    assert _apply(text, edit).count("\\citep{" + items[0].label + "}") >= 1
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=_pos(text, text.index("HuanEtal25") + 2)))
    start = text.index("HuanEtal25")
    assert hover.range.start == _pos(text, start) and hover.range.start.character == start - (text.rfind("\n", 0, start) + 1) + 3


async def test_bad_input_never_kills_the_server(client: LanguageClient, paper: Path) -> None:
    folder = paper.parent
    # a position past the end of a line: an empty answer and a log line
    text = "\\documentclass{article}\n\\citep{}\n\\bibliography{custom}\n"
    uri = _open(client, folder / "past.tex", text)
    before = len(client.log_messages)
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=1, character=400)))
    assert not _items(result)
    await _wait_log(client, before, "position 1:400 ignored")
    # a root file that does not exist
    uri = _open(client, folder / "orphan.tex", "% !TEX root = nowhere.tex\nSee~\\citep{}.\n")
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=1, character=11)))
    assert not _items(result)
    # an unparsable .bib: its problems become diagnostics, the good entries still complete
    (folder / "broken.bib").write_text("@article{good1, title={Perplexity of authors}, year={2020}}\n@article{bad,\n  title = {unclosed\n\n@book{good2, title={Another}}\n", encoding="utf-8")
    text = "\\documentclass{article}\nSee~\\citep{}.\n\\bibliography{broken}\n"
    uri = _open(client, folder / "usesbroken.tex", text)
    items = _items(await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=1, character=11))))
    assert "good1" in [i.label for i in items]
    bib_diags = await _wait_diagnostics(client, from_fs_path(str((folder / "broken.bib").resolve())))
    assert bib_diags and bib_diags[0].range.start.line >= 1
    # a 5 MB document
    big = "\\documentclass{article}\n" + ("Authorship attribution with language models. " * 20 + "\n") * 5600 + "See~\\citep{}.\n\\bibliography{custom}\n"
    assert len(big) > 5_000_000
    uri = _open(client, folder / "big.tex", big)
    items = _items(await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=_pos(big, big.index("\\citep{}") + 7))))
    assert len(items) == 59
    # and the server still answers
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=3)))
    assert hover is None


async def test_big_library_sends_the_best_200_and_narrows_as_the_user_types(client: LanguageClient, paper: Path) -> None:
    folder = paper.parent / "big-library"
    folder.mkdir()
    source = (paper.parent / "custom.bib").read_text(encoding="utf-8")
    copies = [source]
    for n in range(1, 6):  # the paper's 59 real entries, five times under new keys: 354 entries
        copies.append(re.sub(r"(@\w+\{)([^,\s]+),", lambda m, n=n: f"{m.group(1)}{m.group(2)}_v{n},", source))
    (folder / "library.bib").write_text("\n".join(copies), encoding="utf-8")
    text = "\\documentclass{article}\nAuthorship attribution with perplexity~\\citep{}.\n\\bibliography{library}\n"
    uri = _open(client, folder / "doc.tex", text)
    cursor = text.index("\\citep{}") + len("\\citep{")
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=_pos(text, cursor)))
    assert result.is_incomplete and len(result.items) == 200
    typed = text[:cursor] + "Uche" + text[cursor:]
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=_pos(text, cursor), end=_pos(text, cursor)), text="Uche")]))
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=_pos(typed, cursor + 4)))
    labels = [i.label for i in _items(result)]
    assert labels and all(l.startswith("UcheEtal20") or "uche" in i.filter_text.lower() for l, i in zip(labels, _items(result)))
    assert {"UcheEtal20", "UcheEtal20_v1"} <= set(labels)


async def test_a_bib_changed_on_disk_refreshes_diagnostics(client: LanguageClient, paper: Path) -> None:
    folder = paper.parent / "watched"
    folder.mkdir()
    bib = folder / "refs.bib"
    bib.write_text("@article{known, title={Known paper}, year={2020}}\n", encoding="utf-8")
    text = "\\documentclass{article}\nSee~\\cite{known} and~\\cite{later}.\n\\bibliography{refs}\n"
    uri = _open(client, folder / "doc.tex", text)
    found = await _wait_diagnostics(client, uri)
    assert [d.code for d in found] == ["undefined_key"]
    bib.write_text("@article{known, title={Known paper}, year={2020}}\n@article{later, title={Added later}, year={2021}}\n", encoding="utf-8")
    client.diagnostics.pop(uri)
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=from_fs_path(str(bib)), type=types.FileChangeType.Changed)]))
    assert await _wait_diagnostics(client, uri) == []


async def test_a_chapter_finds_the_bibliography_through_its_tex_root(client: LanguageClient, paper: Path) -> None:
    folder = paper.parent / "project"
    (folder / "chapters").mkdir(parents=True)
    (folder / "main.tex").write_text("\\documentclass{article}\n\\begin{document}\n\\input{chapters/intro}\n"
                                     "\\bibliography{../custom}\n\\end{document}\n", encoding="utf-8")
    text = "% !TEX root = ../main.tex\nPerplexity-based authorship attribution~\\citep{}.\n"
    uri = _open(client, folder / "chapters" / "intro.tex", text)
    cursor = text.index("\\citep{}") + len("\\citep{")
    labels = [i.label for i in _items(await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=_pos(text, cursor))))]
    assert len(labels) == 59 and GOLD & set(labels[:5]), labels[:5]
