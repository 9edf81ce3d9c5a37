"""``startref lsp --library``: a library entry chosen in completion is also added to the paper's .bib.

A real server process over stdio, driven by pytest-lsp as an editor would: the paper (the bundled ResNet .bib)
writes about gamma-ray bursts, which only the library covers (a real astronomy bibliography from shared/train,
used in place as a personal library .bib). The library items carry a ``command``; executing it makes the server
send ``workspace/applyEdit`` with the .bib edit, which this client applies to the file as an editor would (and
saves). Running it again adds nothing: the entry is there.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from lspcase import server_command, server_env
from startref.citations.bibindex import parse_bib_text

pytestmark = pytest.mark.asyncio(loop_scope="module")

REPO = Path(__file__).resolve().parents[2]
LIBRARY = REPO.parent / "shared" / "train" / "papers" / "BjoernBiltzinger__pyspi_grb_paper" / "src" / "bib.bib"
TEXT = ("\\documentclass{article}\\begin{document}\n"
        "Deep residual networks~\\cite{he2016deep} are not what we use here. Gamma-ray bursts observed by the "
        "INTEGRAL SPI spectrometer were fitted with the Band function \\cite{}.\n"
        "\\bibliography{refs}\\end{document}\n")


@pytest.fixture(scope="module")
def paper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lsp-library")
    (root / "refs.bib").write_bytes((REPO / "examples" / "resnet" / "refs.bib").read_bytes())
    tex = root / "paper.tex"
    tex.write_text(TEXT, encoding="utf-8")
    return tex


def _apply_to_file(path: Path, edit: types.TextEdit) -> None:
    """Apply an insertion at a (line, UTF-16 character) position to the file, as an editor would, then save."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    at = sum(len(line) for line in lines[: edit.range.start.line])
    line = lines[edit.range.start.line] if edit.range.start.line < len(lines) else ""
    at += len(line.encode("utf-16-le")[: 2 * edit.range.start.character].decode("utf-16-le"))
    path.write_text(text[:at] + edit.new_text + text[at:], encoding="utf-8")


APPLIED: list[types.ApplyWorkspaceEditParams] = []


#: An empty library cache for the server, so that it indexes the library at start (and reports it).
FRESH_CACHE = tempfile.mkdtemp(prefix="startref-lsp-library-")


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(
    server_command=[*server_command(), "--library", str(LIBRARY)],
    server_env={**server_env(), "STARTREF_LIBRARY_CACHE_DIR": FRESH_CACHE}))
async def client(lsp_client: LanguageClient, paper: Path):
    assert LIBRARY.is_file(), f"training paper .bib not found: {LIBRARY}"

    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        APPLIED.append(params)
        for uri, edits in (params.edit.changes or {}).items():
            for edit in edits:
                _apply_to_file(Path(to_fs_path(uri)), edit)
        return types.ApplyWorkspaceEditResult(applied=True)

    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("neovim@v0.7.0"), root_uri=from_fs_path(str(paper.parent))))
    yield
    await lsp_client.shutdown_session()


def _pos(text: str, offset: int) -> types.Position:
    line = text.count("\n", 0, offset)
    return types.Position(line=line, character=offset - (text.rfind("\n", 0, offset) + 1))


async def test_choosing_a_library_item_adds_it_to_the_bib(client: LanguageClient, paper: Path) -> None:
    uri = from_fs_path(str(paper))
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="latex", version=1, text=TEXT)))
    cursor = TEXT.index("\\cite{}") + len("\\cite{")
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=_pos(TEXT, cursor)))
    items = sorted(result.items, key=lambda i: i.sort_text or i.label)
    library_items = [i for i in items if i.command is not None]
    own = parse_bib_text((paper.parent / "refs.bib").read_text(encoding="utf-8"), "refs.bib")
    assert library_items, [i.label for i in items[:10]]
    assert items[0].command is not None, [i.label for i in items[:5]]  # the library has the gamma-ray papers
    assert all(own.get(i.label) is None for i in library_items)  # only entries the .bib lacks carry the command
    assert all(i.command is None for i in items if own.get(i.label) is not None)
    top = items[0]
    assert top.command.command == "startref.addToBib" and top.text_edit.new_text == top.label
    assert "Not in your .bib yet" in top.documentation.value

    # the editor inserted the key and now runs the item's command
    before, before_text = len(own), (paper.parent / "refs.bib").read_text(encoding="utf-8")
    answer = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=top.command.command, arguments=top.command.arguments))
    assert answer["added"] is True and answer["how"] == "workspace/applyEdit", answer
    assert len(APPLIED) == 1
    (bib_uri, edits), = APPLIED[0].edit.changes.items()
    assert Path(to_fs_path(bib_uri)) == (paper.parent / "refs.bib").resolve()
    end = types.Position(line=before_text.count("\n"), character=len(before_text.rsplit("\n", 1)[-1]))
    assert edits[0].range.start == edits[0].range.end == end  # an insertion at the end of the file
    assert (paper.parent / "refs.bib").read_text(encoding="utf-8") == before_text + edits[0].new_text
    after = parse_bib_text((paper.parent / "refs.bib").read_text(encoding="utf-8"), "refs.bib")
    assert len(after) == before + 1 and after.get(top.label) is not None and not after.problems
    assert after.get(top.label).title  # the library's fields came with it

    # choosing it again (or an editor retrying the command) adds nothing: the entry is there now
    again = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=top.command.command, arguments=top.command.arguments))
    assert again["added"] is False and "already in refs.bib" in again["reason"], again
    assert len(APPLIED) == 1


async def test_the_first_index_of_the_library_is_reported_as_loading_progress(client: LanguageClient) -> None:
    reports = client.progress_reports.get("startref/loading-models")
    assert reports, client.progress_reports
    notes = [r.message for r in reports if isinstance(r, types.WorkDoneProgressReport)]
    assert any(n and n.startswith("indexing your library: ") and n.endswith(" entries") for n in notes), reports
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)


async def test_a_bad_command_argument_is_answered_not_fatal(client: LanguageClient) -> None:
    answer = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="startref.addToBib", arguments=[{"uri": "file:///nowhere/x.tex"}]))
    assert answer["added"] is False and answer["reason"]
