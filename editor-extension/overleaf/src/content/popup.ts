/**
 * The list at the cursor, drawn in a shadow root so Overleaf's styles and ours cannot meet. It owns the keyboard
 * while open (focus moves into it), and hands the decision back through callbacks; what each key means is in
 * core/listKeys.ts.
 */
import { listAction } from "../core/listKeys";
import type { Caret } from "../core/messages";
import type { Failure, SuggestOk } from "../core/suggest";

const STYLE = `
:host { all: initial; }
.box { position: fixed; z-index: 2147483000; width: min(560px, 90vw); overflow: hidden; box-sizing: border-box; display: flex; flex-direction: column;
  background: #fff; color: #1b222c; border: 1px solid #c8ced6; border-radius: 6px;
  box-shadow: 0 6px 24px rgba(0,0,0,.18); font: 13px/1.35 system-ui, -apple-system, "Segoe UI", sans-serif; outline: none; }
.head { padding: 6px 10px; font-size: 11px; color: #5f6b7a; border-bottom: 1px solid #e6e9ee; display: flex; justify-content: space-between; }
ul { list-style: none; margin: 0; padding: 2px 0; overflow: auto; flex: 1 1 auto; min-height: 0; }
.head, .foot { flex: none; }
li { padding: 5px 10px; cursor: pointer; border-left: 3px solid transparent; }
li[aria-selected="true"] { background: #e8f3ec; border-left-color: #138a36; }
.title { font-weight: 600; }
.meta { color: #3d4a5a; font-size: 12px; }
.key { font-family: ui-monospace, Menlo, Consolas, monospace; color: #138a36; }
.why { color: #6b7785; font-size: 11.5px; }
.unresolved { color: #8a94a1; font-style: italic; cursor: default; }
.foot { padding: 5px 10px; font-size: 11px; color: #5f6b7a; border-top: 1px solid #e6e9ee; }
.error { padding: 10px; }
.error .title { color: #a1260d; margin-bottom: 4px; }
code { display: block; margin-top: 6px; padding: 6px 8px; background: #f3f5f8; border-radius: 4px;
  font: 12px ui-monospace, Menlo, Consolas, monospace; user-select: all; white-space: pre-wrap; word-break: break-all; }
.loading { padding: 10px; color: #5f6b7a; }
.banner { position: fixed; z-index: 2147483000; right: 16px; bottom: 16px; max-width: 460px; padding: 10px 12px;
  background: #fff4f2; color: #7a1b0a; border: 1px solid #e8b4a8; border-radius: 6px; font: 13px/1.4 system-ui, sans-serif;
  box-shadow: 0 4px 16px rgba(0,0,0,.15); }
`;

export interface PopupCallbacks {
  choose(index: number): void;
  cancel(): void;
  /** Closed because the user typed on: do not steal the keystroke, just give the editor its focus back. */
  passOn(): void;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text = ""): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

/** One popup host on the page (id `startref-popup`); reused for every list. */
export class Popup {
  private readonly host: HTMLElement;
  private readonly root: ShadowRoot;
  private box: HTMLDivElement | null = null;
  private index = 0;
  private count = 0;
  private callbacks: PopupCallbacks | null = null;
  private caret: Caret | null = null;

  constructor() {
    this.host = document.createElement("startref-popup");
    this.host.id = "startref-popup";
    this.root = this.host.attachShadow({ mode: "open" });
    const style = document.createElement("style");
    style.textContent = STYLE;
    this.root.append(style);
  }

  get isOpen(): boolean {
    return this.box !== null;
  }

  private open(caret: Caret, state: string, callbacks: PopupCallbacks): HTMLDivElement {
    this.close();
    if (!this.host.isConnected) document.documentElement.append(this.host);
    const box = el("div", "box");
    box.tabIndex = -1;
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-label", "startref citations");
    box.style.left = `${Math.max(4, Math.min(caret.left, window.innerWidth - 570))}px`;
    box.style.top = `${caret.bottom + 4}px`;
    this.caret = caret;
    box.addEventListener("keydown", (e) => this.onKey(e));
    box.addEventListener("focusout", (e) => {
      // only this box losing focus to the page counts (not the box being replaced, nor focus moving inside it)
      if (this.box !== box || (e.relatedTarget instanceof Node && this.root.contains(e.relatedTarget))) return;
      this.finish((cb) => cb.cancel());
    });
    this.root.append(box);
    this.box = box;
    this.callbacks = callbacks;
    this.host.dataset.state = state;
    box.focus();
    return box;
  }

  showLoading(caret: Caret, callbacks: PopupCallbacks): void {
    const box = this.open(caret, "loading", callbacks);
    box.append(el("div", "loading", "startref: ranking your bibliography…"));
    this.count = 0;
    this.place();
  }

  showList(caret: Caret, reply: SuggestOk, callbacks: PopupCallbacks): void {
    const box = this.open(caret, "list", callbacks);
    const head = el("div", "head");
    head.append(el("span", "", "startref — best first"), el("span", "", "↑↓ Enter to cite · Esc"));
    const list = el("ul", "");
    list.setAttribute("role", "listbox");
    reply.rows.forEach((row, i) => {
      const li = el("li", "");
      li.id = `startref-row-${i}`;
      li.setAttribute("role", "option");
      li.dataset.key = row.key;
      li.append(el("div", "title", row.title));
      const meta = el("div", "meta");
      if (row.meta) meta.append(document.createTextNode(`${row.meta} · `));
      meta.append(el("span", "key", row.key));
      li.append(meta);
      if (row.why) li.append(el("div", "why", row.why));
      li.addEventListener("mousedown", (e) => {
        e.preventDefault();
        this.finish((cb) => cb.choose(i));
      });
      list.append(li);
    });
    for (const generated of reply.unresolved) {
      const li = el("li", "unresolved", `${generated} — not in your bibliography`);
      li.setAttribute("aria-disabled", "true");
      list.append(li);
    }
    const foot = el("div", "foot", `bibliography: ${reply.bibliography}`);
    foot.dataset.role = "bibliography";
    if (reply.problems.length > 0) foot.title = reply.problems.slice(0, 20).join("\n");
    if (reply.rows.length === 0) list.append(el("li", "unresolved", "no candidates"));
    box.append(head, list, foot);
    this.count = reply.rows.length;
    this.place();
    this.highlight(0);
  }

  showFailure(caret: Caret, failure: Pick<Failure, "title" | "detail" | "command">, callbacks: PopupCallbacks): void {
    const box = this.open(caret, "error", callbacks);
    const wrap = el("div", "error");
    wrap.append(el("div", "title", failure.title), el("div", "", failure.detail));
    if (failure.command) wrap.append(el("code", "", failure.command));
    wrap.append(el("div", "why", "Esc to close"));
    box.append(wrap);
    this.count = 0;
    this.place();
  }

  /** Below the caret line when the list fits there (or there is more room below), else above it; never over it. */
  private place(): void {
    const box = this.box;
    const caret = this.caret;
    if (!box || !caret) return;
    const margin = 6;
    const below = window.innerHeight - caret.bottom - margin;
    const above = caret.top - margin;
    box.style.maxHeight = "none";
    const list = box.querySelector("ul");
    const hidden = list ? list.scrollHeight - list.clientHeight : 0; // rows scrolled out of view, if any
    const natural = Math.min(box.scrollHeight + hidden, window.innerHeight * 0.6);
    if (natural <= below || below >= above) {
      box.style.maxHeight = `${Math.max(80, Math.min(natural, below))}px`;
      box.style.top = `${caret.bottom + 4}px`;
    } else {
      const height = Math.min(natural, above);
      box.style.maxHeight = `${height}px`;
      box.style.top = `${Math.max(2, caret.top - 4 - height)}px`;
    }
  }

  /** A lasting notice when the extension cannot work on this page (no editor found). */
  showBanner(text: string): void {
    if (!this.host.isConnected) document.documentElement.append(this.host);
    let banner = this.root.querySelector<HTMLDivElement>(".banner");
    if (!banner) {
      banner = el("div", "banner");
      banner.setAttribute("role", "alert");
      this.root.append(banner);
    }
    banner.textContent = text;
  }

  hideBanner(): void {
    this.root.querySelector(".banner")?.remove();
  }

  close(): void {
    const box = this.box;
    this.box = null; // first: removing a focused box fires focusout, which must see it closed
    this.callbacks = null;
    box?.remove();
    delete this.host.dataset.state;
  }

  private highlight(index: number): void {
    if (!this.box) return;
    this.index = index;
    const rows = this.box.querySelectorAll<HTMLLIElement>("li[role=option]");
    rows.forEach((row, i) => row.setAttribute("aria-selected", String(i === index)));
    rows[index]?.scrollIntoView({ block: "nearest" });
    this.box.querySelector("ul")?.setAttribute("aria-activedescendant", `startref-row-${index}`);
  }

  private finish(call: (cb: PopupCallbacks) => void): void {
    const callbacks = this.callbacks;
    this.close();
    if (callbacks) call(callbacks);
  }

  private onKey(event: KeyboardEvent): void {
    const action = listAction(event.key, this.index, this.count, { ctrl: event.ctrlKey, alt: event.altKey, meta: event.metaKey });
    if (action.kind === "ignore") return;
    if (action.kind === "close-and-pass") {
      this.finish((cb) => cb.passOn());
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    if (action.kind === "move") this.highlight(action.index);
    else if (action.kind === "choose") this.finish((cb) => cb.choose(action.index));
    else this.finish((cb) => cb.cancel());
  }
}
