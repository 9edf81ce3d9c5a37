/**
 * Finding Overleaf's CodeMirror 6 EditorView from the page, most supported hook first:
 *
 * 1. `UNSTABLE_editor:extensions` — Overleaf dispatches it on `window` while building the editor, with
 *    `detail.CodeMirror` (its own CodeMirror exports: EditorView, ViewPlugin, Prec, keymap, ...) and
 *    `detail.extensions` (an array we push our extension into). A ViewPlugin hands us the view. If the editor was
 *    built before this script ran, `editor:extension-loaded` makes Overleaf dispatch the event again and
 *    reconfigure (third-party-extensions.ts in overleaf/overleaf).
 * 2. `CodeMirror.EditorView.findFromDOM(.cm-editor)` with the class from that event.
 * 3. `window.overleaf.unstable.store.get("editor.view")` (the store Overleaf exposes for extensions).
 * 4. The DOM handles CodeMirror leaves on `.cm-content`: `cmTile.root.view` (@codemirror/view >= 6.39) or
 *    `cmView.rootView.view` / `cmView.view` (before).
 *
 * Each is checked to quack like an EditorView (state.doc, dispatch, coordsAtPos) before use.
 */

/** The few EditorView members we use (the page's own CodeMirror instance, so no import of @codemirror/view). */
export interface ViewLike {
  state: {
    doc: { toString(): string; length: number };
    selection: { main: { head: number; anchor: number } };
  };
  dispatch(spec: unknown): void;
  coordsAtPos(pos: number): { left: number; top: number; bottom: number } | null;
  focus(): void;
  hasFocus: boolean;
  dom: HTMLElement;
  contentDOM: HTMLElement;
}

/** The exports Overleaf puts in `detail.CodeMirror` that we use. */
export interface CodeMirrorExports {
  EditorView: { findFromDOM(dom: HTMLElement): ViewLike | null; domEventHandlers(handlers: Record<string, (event: Event, view: ViewLike) => boolean | void>): unknown };
  ViewPlugin: { define(create: (view: ViewLike) => { destroy?(): void }): unknown };
  Prec: { highest(extension: unknown): unknown };
}

export function isViewLike(value: unknown): value is ViewLike {
  const v = value as ViewLike | null;
  return !!v && typeof v === "object" && typeof v.dispatch === "function" && typeof v.coordsAtPos === "function" &&
    !!v.state && typeof v.state.doc?.toString === "function" && !!v.state.selection?.main && v.dom instanceof HTMLElement;
}

export function isCodeMirrorExports(value: unknown): value is CodeMirrorExports {
  const cm = value as CodeMirrorExports | null;
  return !!cm && typeof cm.EditorView?.findFromDOM === "function" && typeof cm.EditorView?.domEventHandlers === "function" &&
    typeof cm.ViewPlugin?.define === "function" && typeof cm.Prec?.highest === "function";
}

interface TileLike {
  root?: { view?: unknown };
}
interface ContentViewLike {
  rootView?: { view?: unknown };
  view?: unknown;
}

/** Hooks 2-4 in order; `via` names the one that worked. */
export function findView(cm: CodeMirrorExports | null): { view: ViewLike; via: string } | null {
  const editor = document.querySelector<HTMLElement>(".cm-editor");
  if (cm && editor) {
    try {
      const view = cm.EditorView.findFromDOM(editor);
      if (isViewLike(view)) return { view, via: "findFromDOM" };
    } catch {
      // a foreign EditorView class: try the next hook
    }
  }
  const store = (window as unknown as { overleaf?: { unstable?: { store?: { get?(key: string): unknown } } } }).overleaf?.unstable?.store;
  if (store && typeof store.get === "function") {
    try {
      const view = store.get("editor.view");
      if (isViewLike(view)) return { view, via: "store" };
    } catch {
      // store without that key
    }
  }
  const content = document.querySelector(".cm-content") as (HTMLElement & { cmTile?: TileLike; cmView?: ContentViewLike }) | null;
  if (content) {
    const fromTile = content.cmTile?.root?.view;
    if (isViewLike(fromTile)) return { view: fromTile, via: "cmTile" };
    const fromView = content.cmView?.rootView?.view ?? content.cmView?.view;
    if (isViewLike(fromView)) return { view: fromView, via: "cmView" };
  }
  return null;
}

/** Overleaf's project store, when it is there (for the file tree and the open doc's name). */
export function overleafStore(): { get(key: string): unknown } | null {
  const store = (window as unknown as { overleaf?: { unstable?: { store?: { get?(key: string): unknown } } } }).overleaf?.unstable?.store;
  return store && typeof store.get === "function" ? (store as { get(key: string): unknown }) : null;
}
