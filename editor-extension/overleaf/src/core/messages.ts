/**
 * The messages between the extension's three parts, typed and validated once:
 *
 *   page script (MAIN world, sees CodeMirror)  <-- window.postMessage -->  content script (isolated world, the list)
 *   content script  <-- chrome.runtime.sendMessage -->  service worker (talks to the local server with the token)
 *
 * Why validate: window messages can come from any script on the page, and a message from an older version of
 * the extension (after an update, before the tab reloads) must be refused with a clear line, not half-handled.
 */
import type { InsertEdit } from "../../../vscode/src/protocol";
import type { PageConfig } from "./settings";

/** Tag on every window message of ours; other scripts' messages are ignored. */
export const CHANNEL = "startref-overleaf";

/** Where the caret is on screen (CSS pixels, viewport coordinates), to place the list. */
export interface Caret {
  left: number;
  top: number;
  bottom: number;
}

/** The bibliography the page read from the Overleaf project. */
export interface ProjectBib {
  /** The .bib files' contents, concatenated. */
  text: string;
  /** Their project paths, e.g. "refs/main.bib". */
  files: string[];
  /** Changes whenever one of the files changes (from the download's ETag or content). */
  version: string;
}

/** Page -> content: the editor was found (or not), once at start and again if it changes. */
export interface EditorStatus {
  type: "status";
  found: boolean;
  /** Which hook gave us the editor: "UNSTABLE_editor:extensions", "findFromDOM", "store", "cmTile", "cmView". */
  via: string;
  message: string;
}

/** Page -> content: the hotkey was pressed in the editor. */
export interface Trigger {
  type: "trigger";
  id: number;
  text: string;
  /** Cursor as a UTF-16 offset into `text`. */
  cursor: number;
  caret: Caret;
  /** performance.now() of the keydown, for the keypress->list latency. */
  t0: number;
  /** Null when the user chose local .bib files or the project has none. */
  bib: ProjectBib | null;
  /** Why the project's .bib files could not be read ("" when they were, or were not wanted). */
  bibProblem: string;
  /** Name of the open doc (for messages). */
  docName: string;
}

/** Content -> page: insert the chosen key. */
export interface Insert {
  type: "insert";
  id: number;
  key: string;
  serverInsert: InsertEdit | null;
  topKey: string | null;
  command: string;
}

/** Content -> page: the list closed without a choice (Escape, click elsewhere); give the editor its focus back. */
export interface Cancel {
  type: "cancel";
  id: number;
}

/** Content -> page: settings the page needs (hotkey, whether to read the project's .bib). */
export interface Config {
  type: "config";
  config: PageConfig;
}

/** Page -> content: what happened to an Insert. */
export interface Inserted {
  type: "inserted";
  id: number;
  ok: boolean;
  /** The text inserted, or why nothing was. */
  detail: string;
}

/**
 * Page -> content: the editor is open; warm the server up with this project's bibliography (parsed and embedded
 * once), so the first hotkey press is as fast as the next ones. The answer is not shown.
 */
export interface Prefetch {
  type: "prefetch";
  bib: ProjectBib | null;
  bibProblem: string;
}

export type PageToContent = EditorStatus | Trigger | Inserted | Prefetch;
export type ContentToPage = Insert | Cancel | Config;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === "string";

function isCaret(v: unknown): v is Caret {
  return isRecord(v) && isNum(v.left) && isNum(v.top) && isNum(v.bottom);
}

function isProjectBib(v: unknown): v is ProjectBib {
  return isRecord(v) && isStr(v.text) && Array.isArray(v.files) && v.files.every(isStr) && isStr(v.version);
}

function isInsertEdit(v: unknown): v is InsertEdit {
  return isRecord(v) && Number.isInteger(v.start) && Number.isInteger(v.end) && isStr(v.text);
}

/** Wrap a message for window.postMessage. */
export function envelope(message: PageToContent | ContentToPage, direction: "to-content" | "to-page"): object {
  return { channel: CHANNEL, direction, message };
}

/** The message inside a window message's data, when it is ours, goes `direction` and is well formed; else null. */
export function openEnvelope(data: unknown, direction: "to-content"): PageToContent | null;
export function openEnvelope(data: unknown, direction: "to-page"): ContentToPage | null;
export function openEnvelope(data: unknown, direction: "to-content" | "to-page"): PageToContent | ContentToPage | null {
  if (!isRecord(data) || data.channel !== CHANNEL || data.direction !== direction || !isRecord(data.message)) return null;
  const m = data.message;
  if (direction === "to-content") {
    if (m.type === "status" && typeof m.found === "boolean" && isStr(m.via) && isStr(m.message)) return m as unknown as EditorStatus;
    if (
      m.type === "trigger" && isNum(m.id) && isStr(m.text) && Number.isInteger(m.cursor) && (m.cursor as number) >= 0 &&
      (m.cursor as number) <= (m.text as string).length && isCaret(m.caret) && isNum(m.t0) &&
      (m.bib === null || isProjectBib(m.bib)) && isStr(m.bibProblem) && isStr(m.docName)
    ) return m as unknown as Trigger;
    if (m.type === "inserted" && isNum(m.id) && typeof m.ok === "boolean" && isStr(m.detail)) return m as unknown as Inserted;
    if (m.type === "prefetch" && (m.bib === null || isProjectBib(m.bib)) && isStr(m.bibProblem)) return m as unknown as Prefetch;
    return null;
  }
  if (
    m.type === "insert" && isNum(m.id) && isStr(m.key) && m.key !== "" && isStr(m.command) &&
    (m.serverInsert === null || isInsertEdit(m.serverInsert)) && (m.topKey === null || isStr(m.topKey))
  ) return m as unknown as Insert;
  if (m.type === "cancel" && isNum(m.id)) return m as unknown as Cancel;
  if (m.type === "config" && isRecord(m.config) && isStr(m.config.hotkey) && typeof m.config.useProjectBib === "boolean") {
    return m as unknown as Config;
  }
  return null;
}

/** Content -> service worker. */
export interface SuggestMessage {
  kind: "suggest";
  text: string;
  cursor: number;
  bib: ProjectBib | null;
  /** Why the project's .bib could not be read, passed on to the error message when no bibliography is found. */
  bibProblem: string;
}

export interface HealthMessage {
  kind: "health";
}

export type WorkerMessage = SuggestMessage | HealthMessage;

export function parseWorkerMessage(raw: unknown): WorkerMessage | null {
  if (!isRecord(raw)) return null;
  if (raw.kind === "health") return { kind: "health" };
  if (
    raw.kind === "suggest" && isStr(raw.text) && Number.isInteger(raw.cursor) && (raw.cursor as number) >= 0 &&
    (raw.cursor as number) <= (raw.text as string).length && (raw.bib === null || isProjectBib(raw.bib)) &&
    isStr(raw.bibProblem)
  ) {
    return raw as unknown as SuggestMessage;
  }
  return null;
}
