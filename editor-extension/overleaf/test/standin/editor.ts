/**
 * The local stand-in for Overleaf's editor page: a real CodeMirror 6 editor built the way Overleaf builds its
 * source editor (services/web/frontend/js/features/source-editor in overleaf/overleaf):
 * - `bundle.ts`: the CodeMirror exports handed to third parties (ChangeSet, Decoration, EditorSelection,
 *   EditorView, Prec, StateEffect, StateField, ViewPlugin, WidgetType, hoverTooltip, keymap, syntaxTree, ...);
 * - `third-party-extensions.ts`: `UNSTABLE_editor:extensions` dispatched with `{CodeMirror, CodeMirrorVim,
 *   extensions}` while the editor is built, inside a Compartment that `editor:extension-loaded` reconfigures;
 * - Overleaf's `shortcuts.ts` keymap at Prec.high (so a collision with our hotkey would show);
 * - `window.overleaf.unstable.store` with `editor.view`, `editor.open_doc_id`, `editor.open_doc_name`, `project`.
 *
 * `?hooks=dom` builds the same editor with no event and no store: only the DOM fallbacks (cmTile) can find it.
 * `?hooks=none` shows a `.cm-editor` that is not CodeMirror at all: the extension must fail loudly.
 * Not a copy of Overleaf's code: the same public CodeMirror API used in the same order.
 */
import { autocompletion } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, invertedEffects, isolateHistory, redo, undo } from "@codemirror/commands";
import { syntaxTree } from "@codemirror/language";
import { ChangeSet, Compartment, EditorSelection, EditorState, Prec, StateEffect, StateField } from "@codemirror/state";
import type { Extension } from "@codemirror/state";
import { Decoration, EditorView, hoverTooltip, keymap, lineNumbers, ViewPlugin, WidgetType } from "@codemirror/view";

interface Doc { _id: string; name: string }
interface Folder { _id: string; name: string; docs: Doc[]; folders: Folder[]; fileRefs: unknown[] }
interface Boot { projectId: string; docId: string; docName: string; text: string; rootFolder: Folder[] }

const boot = JSON.parse(document.getElementById("standin-boot")!.textContent!) as Boot;
const hooks = new URLSearchParams(location.search).get("hooks") ?? "overleaf";

const CodeMirror = {
  ChangeSet, Decoration, EditorSelection, EditorView, Prec, StateEffect, StateField, ViewPlugin, WidgetType,
  hoverTooltip, keymap, syntaxTree, undo, redo, invertedEffects, isolateHistory,
};
const CodeMirrorVim = {};

const thirdPartyConf = new Compartment();
function dispatchExtensionsEvent(extensions: Extension[]): void {
  window.dispatchEvent(new CustomEvent("UNSTABLE_editor:extensions", { detail: { CodeMirror, CodeMirrorVim, extensions } }));
}
function thirdPartyExtensions(): Extension {
  const extensions: Extension[] = [];
  dispatchExtensionsEvent(extensions);
  const reloaded = ViewPlugin.define((view) => {
    const listener = (): void => {
      const again: Extension[] = [];
      dispatchExtensionsEvent(again);
      view.dispatch({ effects: thirdPartyConf.reconfigure(again) });
    };
    window.addEventListener("editor:extension-loaded", listener);
    return { destroy: () => window.removeEventListener("editor:extension-loaded", listener) };
  });
  return [thirdPartyConf.of(extensions), reloaded];
}

const blocked = (name: string) => () => {
  document.body.dataset.lastShortcut = name; // the test can see when one of Overleaf's shortcuts fired
  return true;
};
const overleafShortcuts = Prec.high(keymap.of([
  { key: "Mod-y", preventDefault: true, run: redo },
  { key: "Mod-Shift-z", preventDefault: true, run: redo },
  { key: "Mod-Shift-/", preventDefault: true, run: blocked("toggle-comment") },
  { key: "Ctrl-u", preventDefault: true, run: blocked("uppercase") },
  { key: "Ctrl-Shift-u", preventDefault: true, run: blocked("lowercase") },
  { key: "Mod-d", preventDefault: true, run: blocked("delete-line") },
  { key: "Mod-j", preventDefault: true, run: blocked("review-panel") },
  { key: "Mod-Shift-c", preventDefault: true, run: blocked("add-comment") },
  { key: "Mod-Shift-a", preventDefault: true, run: blocked("track-changes") },
  { key: "Mod-Enter", preventDefault: true, run: blocked("compile") },
  { key: "Mod-s", preventDefault: true, run: blocked("compile") },
  { key: "Ctrl-Space", preventDefault: true, run: blocked("autocomplete") },
]));

const parent = document.getElementById("editor")!;
if (hooks === "none") {
  const fake = document.createElement("div");
  fake.className = "cm-editor";
  fake.innerHTML = '<div class="cm-content" contenteditable="true"></div>';
  fake.querySelector(".cm-content")!.textContent = boot.text.slice(0, 2000);
  parent.append(fake);
} else {
  const extensions: Extension[] = [
    lineNumbers(), history(), autocompletion(), EditorView.lineWrapping,
    overleafShortcuts, keymap.of([...defaultKeymap, ...historyKeymap]),
  ];
  if (hooks === "overleaf") extensions.push(thirdPartyExtensions());
  const view = new EditorView({ parent, state: EditorState.create({ doc: boot.text, extensions }) });
  // the test harness's own handle (not used by the extension in hooks=dom mode)
  (window as unknown as { standinView: EditorView }).standinView = view;
  if (hooks === "overleaf") {
    const values: Record<string, unknown> = {
      "editor.view": view, "editor.open_doc_id": boot.docId, "editor.open_doc_name": boot.docName,
      project: { _id: boot.projectId, name: "stand-in", rootFolder: boot.rootFolder },
    };
    (window as unknown as { overleaf: unknown }).overleaf = { unstable: { store: { get: (key: string) => values[key], watch: () => () => undefined } } };
  }
}
document.body.dataset.ready = "1";
