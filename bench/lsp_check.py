"""Does the in-editor audit hold completion back? ``startref lsp`` with a 300-citation paper open.

    python bench/lsp_check.py                # 20 completions while the audit runs, 20 after it, the audit's time

The paper is ``bench/check_speed.py``'s (the largest dev paper cut to 300 cite commands / 200 entries). A real
pygls client starts ``python -m startref lsp`` over stdio, waits for the models, opens the paper (which starts the
audit on its own thread) and at once asks for completion inside the first key of 20 cite commands spread over the
paper, one after the other; then it waits until the audit's diagnostics arrive and asks the same 20 again. Reported:
completion round trips during and after the audit, and the time from opening the paper to the audit's diagnostics.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_speed import build  # noqa: E402
from startref.latex.cites import find_cites  # noqa: E402
from startref.latex.commands import syntax_with_user_wrappers  # noqa: E402
from startref.latex.position import lsp_from_offset  # noqa: E402

REQUESTS = 20


async def _complete(client: LanguageClient, uri: str, text: str, offset: int) -> float:
    line, character = lsp_from_offset(text, offset)
    t0 = time.perf_counter()
    await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=character)))
    return (time.perf_counter() - t0) * 1000


async def run(folder: Path) -> None:
    tex, n_cites, n_entries = build(folder)
    text = tex.read_text(encoding="utf-8")
    cites = find_cites(text, syntax_with_user_wrappers(text))
    step = max(1, len(cites) // REQUESTS)
    offsets = [c.key_spans[0][0] for c in cites[::step][:REQUESTS] if c.key_spans]
    client = LanguageClient("startref-bench", "1")
    published: dict[str, float] = {}
    ready = asyncio.Event()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def _diagnostics(params: types.PublishDiagnosticsParams) -> None:
        if any(d.code == "possible_miscitation" for d in params.diagnostics):
            published.setdefault(params.uri, time.perf_counter())

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def _log(params: types.LogMessageParams) -> None:
        if "models ready" in params.message:
            ready.set()

    await client.start_io(sys.executable, "-m", "startref", "lsp")
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities(),
                                                         root_uri=from_fs_path(str(folder)), process_id=os.getpid()))
    client.initialized(types.InitializedParams())
    await asyncio.wait_for(ready.wait(), 300)
    # One completion on a small unrelated buffer first: the completion path's own warm-up is not the audit's doing.
    warm = folder / "warm.tex"
    warm.write_text("\\documentclass{article}\\begin{document}See \\cite{}.\\end{document}\n", encoding="utf-8")
    warm_uri = from_fs_path(str(warm))
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=warm_uri, language_id="latex", version=1, text=warm.read_text(encoding="utf-8"))))
    warm_text = warm.read_text(encoding="utf-8")
    await _complete(client, warm_uri, warm_text, warm_text.index("\\cite{") + 6)

    uri = from_fs_path(str(tex))
    opened = time.perf_counter()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="latex", version=1, text=text)))
    during = []
    for offset in offsets:
        during.append(await _complete(client, uri, text, offset))
        during_done = uri in published
        if during_done:
            break
    while uri not in published:
        await asyncio.sleep(0.2)
        if time.perf_counter() - opened > 900:
            raise SystemExit("no audit diagnostics after 900 s")
    audit_s = published[uri] - opened
    after = [await _complete(client, uri, text, offset) for offset in offsets]
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()

    def row(name: str, xs: list[float]) -> str:
        return f"| {name} | {len(xs)} | {statistics.median(xs):.0f} ms | {max(xs):.0f} ms |"

    print(f"{n_cites} cite commands, {n_entries} entries; audit diagnostics {audit_s:.1f} s after opening; "
          f"load avg {os.getloadavg()[0]:.1f}")
    print("| completions | n | p50 | max |\n|---|---|---|---|")
    print(row("while the audit runs", during))
    print(row("after it", after))


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="startref-lsp-check-") as tmp:
        asyncio.run(run(Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
