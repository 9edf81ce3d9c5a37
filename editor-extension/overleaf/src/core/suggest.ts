/**
 * What the service worker does for one hotkey press, with `fetch` passed in: build the request (the project's
 * .bib as `bib_text`, or the local .bib paths the user named), ask `POST /v1/suggest`, and turn the answer into
 * rows for the list, or a failure that says what to do (start the server, allow the extension, fix the token).
 *
 * The server's JSON is the only contract; nothing here re-ranks.
 */
import { parseSuggestResponse, ProtocolError } from "../../../vscode/src/protocol";
import type { InsertEdit, SuggestResponse } from "../../../vscode/src/protocol";
import type { SuggestMessage } from "./messages";
import type { Settings } from "./settings";

/** One row of the list. */
export interface Row {
  key: string;
  title: string;
  /** "Li, Durbin, 2009" */
  meta: string;
  why: string;
}

export interface SuggestOk {
  ok: true;
  rows: Row[];
  /** Generated titles that matched no entry (shown greyed, insert nothing). */
  unresolved: string[];
  serverInsert: InsertEdit | null;
  topKey: string | null;
  /** Which bibliography was ranked, for the list's footer. */
  bibliography: string;
  /** Parse problems the server reported in the bibliography ("refs.bib:12: ..."). */
  problems: string[];
  /** The server's own time for the request (its timing_ms.total), to tell server from extension time apart. */
  serverMs: number | null;
}

export interface Failure {
  ok: false;
  /** Short headline. */
  title: string;
  /** What happened and what to do. */
  detail: string;
  /** A command to copy, when one fixes it ("" when none). */
  command: string;
  /** Server error code, or "unreachable" / "timeout" / "protocol". */
  code: string;
}

export type SuggestReply = SuggestOk | Failure;

/** LSP position (UTF-16 character) of a UTF-16 offset: the server's `position` field. */
export function positionAt(text: string, offset: number): { line: number; character: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length - 1;
  return { line, character: offset - (before.lastIndexOf("\n") + 1) };
}

/** The request body: local .bib paths win (the user named them), else the project's text, else nothing.
 * `library: false`: a server started with `--library` would also rank the user's library, whose entries it can
 * only add to a .bib on disk (`bib_edit`), not to the Overleaf project's; so the extension ranks the .bib alone. */
export function buildRequest(message: SuggestMessage, settings: Settings): Record<string, unknown> {
  const body: Record<string, unknown> = {
    text: message.text, position: positionAt(message.text, message.cursor), k: settings.k, library: false,
  };
  if (settings.bibPaths.length > 0) body.bib = settings.bibPaths;
  else if (message.bib) body.bib_text = message.bib.text;
  if (settings.citeCommand) body.command = settings.citeCommand;
  return body;
}

/** "project: refs.bib, extra.bib" or "local: /home/me/zotero.bib". */
export function bibliographyLabel(message: SuggestMessage, settings: Settings, response: SuggestResponse | null): string {
  const entries = response?.bibliographyEntries;
  const count = entries === null || entries === undefined ? "" : ` (${entries} entries)`;
  if (settings.bibPaths.length > 0) return `local: ${settings.bibPaths.join(", ")}${count}`;
  if (message.bib) return `project: ${message.bib.files.join(", ")}${count}`;
  return `none${count}`;
}

function shortAuthors(authors: string): string {
  const names = authors.split(/\s*(?:,|\band\b)\s*/).filter((n) => n !== "");
  return names.length > 3 ? `${names.slice(0, 3).join(", ")} et al.` : names.join(", ");
}

/** The answer as rows, best first (the server's order). */
export function rowsOf(response: SuggestResponse): Row[] {
  return response.candidates.map((c) => ({
    key: c.key,
    title: c.title || c.key,
    meta: [shortAuthors(c.authors), c.year].filter((s) => s !== "").join(", "),
    why: c.why,
  }));
}

export function startCommand(extensionId: string, serverUrl: string, token: string): string {
  let port = "8765";
  try {
    port = new URL(serverUrl).port || port;
  } catch {
    // keep the default port
  }
  const portFlag = port === "8765" ? "" : ` --port ${port}`;
  const tokenFlag = token ? " --token <your token>" : "";
  return `startref serve --allow-extension ${extensionId}${portFlag}${tokenFlag}`;
}

/** A non-200 answer as a Failure that says what to do. */
export function failureOf(status: number, body: string, context: { extensionId: string; settings: Settings; bibProblem: string }): Failure {
  let code = `http_${status}`;
  let message = body.trim().slice(0, 300) || `HTTP ${status}`;
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    if (parsed.error && typeof parsed.error.code === "string") code = parsed.error.code;
    if (parsed.error && typeof parsed.error.message === "string") message = parsed.error.message;
  } catch {
    // not JSON: keep the raw text
  }
  const { extensionId, settings } = context;
  const command = startCommand(extensionId, settings.serverUrl, settings.token);
  if (code === "forbidden_origin") {
    return { ok: false, code, title: "The server does not allow this extension",
      detail: `The startref server refused the extension's origin chrome-extension://${extensionId}. Restart it allowing exactly this extension:`, command };
  }
  if (code === "unauthorized") {
    return { ok: false, code, title: settings.token ? "Wrong token" : "The server wants a token",
      detail: `${message}. Put the server's --token (or STARTREF_TOKEN) into the extension's options.`, command: "" };
  }
  if (code === "bibliography_not_found" || code === "bibliography_empty") {
    const why = context.bibProblem ? ` (${context.bibProblem})` : "";
    return { ok: false, code, title: "No bibliography found",
      detail: `${message}${why}. Add a .bib file to the Overleaf project, or name local .bib files in the extension's options.`, command: "" };
  }
  if (code === "not_ready") {
    return { ok: false, code, title: "The server is still loading its models", detail: `${message}. Try again in a few seconds.`, command: "" };
  }
  return { ok: false, code, title: "The startref server answered with an error", detail: `${message} [${code}]`, command: "" };
}

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<{ status: number; text(): Promise<string> }>;

export interface SuggestContext {
  settings: Settings;
  extensionId: string;
  fetch: FetchLike;
  timeoutMs?: number;
}

function headersFor(settings: Settings, json: boolean): Record<string, string> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (json) headers["Content-Type"] = "application/json";
  if (settings.token) headers.Authorization = `Bearer ${settings.token}`;
  return headers;
}

async function call(ctx: SuggestContext, path: string, body?: string): Promise<{ status: number; text: string } | Failure> {
  const { settings } = ctx;
  const timeoutMs = ctx.timeoutMs ?? 30_000;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await ctx.fetch(`${settings.serverUrl}${path}`, {
      method: body === undefined ? "GET" : "POST", headers: headersFor(settings, body !== undefined), body, signal: controller.signal,
    });
    return { status: res.status, text: await res.text() };
  } catch (err) {
    if (controller.signal.aborted) {
      return { ok: false, code: "timeout", title: "The startref server did not answer",
        detail: `No answer from ${settings.serverUrl} within ${timeoutMs / 1000} s.`, command: "" };
    }
    return { ok: false, code: "unreachable", title: "The startref server is not running",
      detail: `Nothing answers at ${settings.serverUrl} (${(err as Error).message}). Start it on this computer:`,
      command: startCommand(ctx.extensionId, settings.serverUrl, settings.token) };
  } finally {
    clearTimeout(timer);
  }
}

/** One hotkey press, start to finish. Never throws: every failure is a Failure to show. */
export async function suggestFor(message: SuggestMessage, ctx: SuggestContext): Promise<SuggestReply> {
  const answer = await call(ctx, "/v1/suggest", JSON.stringify(buildRequest(message, ctx.settings)));
  if ("ok" in answer) return answer;
  if (answer.status !== 200) {
    return failureOf(answer.status, answer.text, { extensionId: ctx.extensionId, settings: ctx.settings, bibProblem: message.bibProblem });
  }
  let response: SuggestResponse;
  let serverMs: number | null = null;
  try {
    const raw = JSON.parse(answer.text) as { timing_ms?: { total?: unknown } };
    serverMs = typeof raw?.timing_ms?.total === "number" ? raw.timing_ms.total : null;
    response = parseSuggestResponse(raw);
  } catch (err) {
    const why = err instanceof ProtocolError ? err.message : "the answer is not JSON";
    return { ok: false, code: "protocol", title: "Unexpected answer from the server", detail: why, command: "" };
  }
  return {
    ok: true,
    rows: rowsOf(response),
    unresolved: response.unresolved,
    serverInsert: response.insert,
    topKey: response.candidates[0]?.key ?? null,
    bibliography: bibliographyLabel(message, ctx.settings, response),
    problems: response.problems,
    serverMs,
  };
}

/** `GET /healthz` as the options page's "Test connection" shows it; the Origin check runs before the route. */
export async function checkServer(ctx: SuggestContext): Promise<{ ok: boolean; title: string; detail: string; command: string }> {
  const answer = await call({ ...ctx, timeoutMs: ctx.timeoutMs ?? 3000 }, "/healthz");
  if ("ok" in answer) return { ok: false, title: answer.title, detail: answer.detail, command: answer.command };
  if (answer.status === 200) {
    // healthz needs no token; a HEAD-free probe of the token is a tiny suggest with no bibliography
    return { ok: true, title: "Connected", detail: `The startref server at ${ctx.settings.serverUrl} answers and allows this extension.`, command: "" };
  }
  const failure = failureOf(answer.status, answer.text, { extensionId: ctx.extensionId, settings: ctx.settings, bibProblem: "" });
  return { ok: false, title: failure.title, detail: failure.detail, command: failure.command };
}
