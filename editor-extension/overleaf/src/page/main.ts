/**
 * The MAIN-world content script: the only part that touches Overleaf's CodeMirror. It watches for the hotkey in the
 * editor, sends the text, cursor and the project's .bib to the content script, and applies the chosen insertion as
 * one CodeMirror transaction (so undo, collaboration and track changes see an ordinary edit).
 *
 * It never sees the token or the server: those live in the extension's isolated world and service worker.
 * When no hook reaches the editor it says so on screen and in the console, never silently.
 */
import { DEFAULT_HOTKEY, matchesHotkey, parseHotkey } from "../core/hotkey";
import type { Hotkey } from "../core/hotkey";
import { editFor } from "../core/insertion";
import type { Snapshot } from "../core/insertion";
import { envelope, openEnvelope } from "../core/messages";
import type { EditorStatus, PageToContent, ProjectBib } from "../core/messages";
import { projectIdFromPath } from "../core/projectBib";
import { findView, isCodeMirrorExports, overleafStore } from "./editorHooks";
import type { CodeMirrorExports, ViewLike } from "./editorHooks";
import { bibStats, readProjectBib } from "./bibReader";

const EXTENSIONS_EVENT = "UNSTABLE_editor:extensions";
const RELOAD_EVENT = "editor:extension-loaded";
/** How long after a `.cm-editor` appears the hooks may take before we call it a failure. */
const FIND_TIMEOUT_MS = 8000;

let hotkey: Hotkey = parseHotkey(DEFAULT_HOTKEY);
let useProjectBib = true;
let codeMirror: CodeMirrorExports | null = null;
let pluginView: ViewLike | null = null;
let lastStatus = "";
let latest: EditorStatus | null = null;
/** The content script has sent the settings / the warm-up request has been sent. */
let configured = false;
let prefetched = false;
let nextId = 1;
const pending = new Map<number, { view: ViewLike; sent: Snapshot }>();
const isMac = /Mac/.test(navigator.platform);

function post(message: PageToContent): void {
  window.postMessage(envelope(message, "to-content"), window.location.origin);
}

function report(status: EditorStatus): void {
  latest = status;
  const line = `${status.found}|${status.via}|${status.message}`;
  if (line === lastStatus) return;
  lastStatus = line;
  if (!status.found) console.error(`[startref] ${status.message}`);
  else if (configured && !prefetched) void prefetch();
  else console.info(`[startref] editor found via ${status.via}`);
  post(status);
}

function currentView(): { view: ViewLike; via: string } | null {
  if (pluginView && pluginView.dom.isConnected) return { view: pluginView, via: EXTENSIONS_EVENT };
  const found = findView(codeMirror);
  return found;
}

function onKeydown(event: KeyboardEvent, view: ViewLike): boolean {
  if (event.repeat || !matchesHotkey(hotkey, event)) return false;
  event.preventDefault();
  event.stopPropagation();
  void trigger(view, event.timeStamp || performance.now());
  return true;
}

/** Our CodeMirror extension, built from Overleaf's own exports (no instanceof mismatch with a second copy). */
function ourExtension(cm: CodeMirrorExports): unknown {
  return [
    cm.ViewPlugin.define((view) => {
      pluginView = view;
      report({ type: "status", found: true, via: EXTENSIONS_EVENT, message: "" });
      return { destroy: () => { if (pluginView === view) pluginView = null; } };
    }),
    cm.Prec.highest(cm.EditorView.domEventHandlers({ keydown: (event, view) => onKeydown(event as KeyboardEvent, view) })),
  ];
}

window.addEventListener(EXTENSIONS_EVENT, (event) => {
  const detail = (event as CustomEvent<{ CodeMirror?: unknown; extensions?: unknown }>).detail;
  if (!detail || !isCodeMirrorExports(detail.CodeMirror) || !Array.isArray(detail.extensions)) {
    console.error(`[startref] ${EXTENSIONS_EVENT} fired without the expected CodeMirror exports; trying the fallbacks`);
    return;
  }
  codeMirror = detail.CodeMirror;
  detail.extensions.push(ourExtension(codeMirror));
});

/** Fallback hotkey when our extension is not inside the editor: a capture listener on the document. */
document.addEventListener("keydown", (event) => {
  if (pluginView && pluginView.dom.isConnected) return; // the CodeMirror extension handles it
  const target = event.target as HTMLElement | null;
  if (!target || !target.closest || !target.closest(".cm-editor")) return;
  if (!matchesHotkey(hotkey, event)) return;
  const found = currentView();
  if (!found) {
    event.preventDefault();
    report({ type: "status", found: false, via: "none", message: noEditorMessage() });
    return;
  }
  onKeydown(event, found.view);
}, true);

function noEditorMessage(): string {
  return "startref cannot reach Overleaf's editor: none of its hooks worked (UNSTABLE_editor:extensions, " +
    "EditorView.findFromDOM, overleaf.unstable.store, .cm-content cmTile/cmView). Overleaf may have changed; " +
    "please report it with your browser's console output.";
}

function caretOf(view: ViewLike, pos: number): { left: number; top: number; bottom: number } {
  const coords = view.coordsAtPos(pos);
  if (coords) return { left: coords.left, top: coords.top, bottom: coords.bottom };
  const box = view.contentDOM.getBoundingClientRect();
  return { left: box.left, top: box.top, bottom: box.top + 20 };
}

async function projectBib(): Promise<{ bib: ProjectBib | null; problem: string }> {
  if (!useProjectBib) return { bib: null, problem: "" };
  const projectId = projectIdFromPath(window.location.pathname);
  if (!projectId) return { bib: null, problem: `no Overleaf project id in ${window.location.pathname}` };
  try {
    const bib = await readProjectBib(projectId);
    return { bib, problem: bib ? "" : "the Overleaf project has no .bib file" };
  } catch (err) {
    console.error("[startref] reading the project's .bib files failed:", err);
    return { bib: null, problem: `reading the project's .bib files failed: ${(err as Error).message}` };
  }
}

/** Once per page, when the editor and the settings are known: let the server index the bibliography now. */
async function prefetch(): Promise<void> {
  prefetched = true;
  const { bib, problem } = await projectBib();
  post({ type: "prefetch", bib, bibProblem: problem });
}

async function trigger(view: ViewLike, t0: number): Promise<void> {
  const id = nextId++;
  const text = view.state.doc.toString();
  const cursor = view.state.selection.main.head;
  pending.set(id, { view, sent: { text, cursor } });
  const caret = caretOf(view, cursor);
  const { bib, problem } = await projectBib();
  const docName = String(overleafStore()?.get("editor.open_doc_name") ?? "");
  post({ type: "trigger", id, text, cursor, caret, t0, bib, bibProblem: problem, docName });
}

function insert(id: number, apply: (view: ViewLike, sent: Snapshot) => string): void {
  const job = pending.get(id);
  pending.delete(id);
  if (!job) {
    post({ type: "inserted", id, ok: false, detail: "that list is no longer current" });
    return;
  }
  const view = job.view.dom.isConnected ? job.view : currentView()?.view;
  if (!view) {
    post({ type: "inserted", id, ok: false, detail: "the editor is gone (another file was opened?)" });
    return;
  }
  try {
    post({ type: "inserted", id, ok: true, detail: apply(view, job.sent) });
  } catch (err) {
    console.error("[startref] inserting failed:", err);
    post({ type: "inserted", id, ok: false, detail: (err as Error).message });
  }
}

window.addEventListener("message", (event) => {
  if (event.source !== window || event.origin !== window.location.origin) return;
  const message = openEnvelope(event.data, "to-page");
  if (!message) return;
  if (message.type === "config") {
    configured = true;
    try {
      hotkey = parseHotkey(message.config.hotkey, isMac);
    } catch (err) {
      console.error(`[startref] ${(err as Error).message}; keeping ${DEFAULT_HOTKEY}`);
    }
    useProjectBib = message.config.useProjectBib;
    if (latest) post(latest); // the content script (document_idle) may have missed the status sent at start
    if (!prefetched && latest?.found) void prefetch();
    return;
  }
  if (message.type === "cancel") {
    const job = pending.get(message.id);
    pending.delete(message.id);
    job?.view.focus();
    return;
  }
  insert(message.id, (view, sent) => {
    const now = { text: view.state.doc.toString(), cursor: view.state.selection.main.head };
    const edit = editFor(message, sent, now);
    view.dispatch({
      changes: { from: edit.start, to: edit.end, insert: edit.text },
      selection: { anchor: edit.start + edit.text.length },
      scrollIntoView: true,
      userEvent: "input.complete",
    });
    view.focus();
    return edit.text;
  });
});

/** Watch for the editor: ask Overleaf to re-run its extensions event if we came late, then try the fallbacks. */
function watchForEditor(): void {
  let firstSeen = 0;
  let askedReload = false;
  const tick = (): void => {
    const editor = document.querySelector(".cm-editor");
    if (!editor) {
      firstSeen = 0;
      return;
    }
    if (pluginView && pluginView.dom.isConnected) return;
    if (!firstSeen) firstSeen = performance.now();
    if (!askedReload) {
      askedReload = true;
      window.dispatchEvent(new CustomEvent(RELOAD_EVENT));
      return;
    }
    const found = currentView();
    if (found) {
      report({ type: "status", found: true, via: found.via, message: "" });
    } else if (performance.now() - firstSeen > FIND_TIMEOUT_MS) {
      report({ type: "status", found: false, via: "none", message: noEditorMessage() });
    }
  };
  setInterval(tick, 500);
  tick();
}

Object.defineProperty(window, "__startrefBibStats", { get: bibStats, configurable: true });
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watchForEditor);
else watchForEditor();
