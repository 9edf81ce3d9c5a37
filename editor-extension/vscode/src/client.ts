/**
 * HTTP client for the startref server, on node's global fetch (no `vscode`), so the integration test drives
 * exactly the code the extension runs. Every failure becomes a StartrefError whose message is fit to show.
 */
import { parseSuggestResponse, ProtocolError } from "./protocol";
import type { SuggestRequest, SuggestResponse } from "./protocol";

export type FailureKind = "unreachable" | "timeout" | "server" | "protocol";

/** A failed request, with a message for the user and the server's error code when it sent one. */
export class StartrefError extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
    readonly status: number | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = "StartrefError";
  }
}

export interface ClientOptions {
  serverUrl: string;
  token?: string;
  timeoutMs?: number;
}

function headers(options: ClientOptions, json: boolean): Record<string, string> {
  const h: Record<string, string> = { Accept: "application/json" };
  if (json) h["Content-Type"] = "application/json";
  if (options.token) h.Authorization = `Bearer ${options.token}`;
  return h;
}

async function request(options: ClientOptions, path: string, init: { method: string; body?: string }): Promise<Response> {
  const url = `${options.serverUrl}${path}`;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await fetch(url, {
      method: init.method,
      body: init.body,
      headers: headers(options, init.body !== undefined),
      signal: controller.signal,
    });
  } catch (err) {
    if (controller.signal.aborted) {
      throw new StartrefError(`startref server at ${options.serverUrl} did not answer within ${timeoutMs / 1000} s`, "timeout");
    }
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new StartrefError(`startref server at ${options.serverUrl} is not reachable (${cause})`, "unreachable");
  } finally {
    clearTimeout(timer);
  }
}

/** Message for a non-200 answer, from the contract's `{"error": {"code", "message"}}` when present. */
export function errorFromBody(status: number, body: string): StartrefError {
  let code: string | null = null;
  let message = body.trim().slice(0, 300) || `HTTP ${status}`;
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown }; detail?: unknown };
    if (parsed.error && typeof parsed.error === "object") {
      code = typeof parsed.error.code === "string" ? parsed.error.code : null;
      if (typeof parsed.error.message === "string") message = parsed.error.message;
    } else if (parsed.detail !== undefined) {
      message = typeof parsed.detail === "string" ? parsed.detail : JSON.stringify(parsed.detail);
    }
  } catch {
    // not JSON: keep the raw text
  }
  const hint = status === 401 || status === 403 ? " (check the startref.token setting)" : "";
  return new StartrefError(`startref: ${message}${code ? ` [${code}]` : ""}${hint}`, "server", status, code);
}

/**
 * What `GET /healthz` says: "ready" (200), "loading" (503 not_ready), "failed" (503 with another code: the
 * models could not load, so waiting longer will not help) or "down" (nothing answers).
 */
export interface Health {
  state: "ready" | "loading" | "failed" | "down";
  message: string;
}

export async function health(options: ClientOptions): Promise<Health> {
  let res: Response;
  try {
    res = await request({ ...options, timeoutMs: options.timeoutMs ?? 2000 }, "/healthz", { method: "GET" });
  } catch (err) {
    return { state: "down", message: err instanceof Error ? err.message : String(err) };
  }
  const body = await res.text();
  if (res.status === 200) return { state: "ready", message: "ok" };
  const error = errorFromBody(res.status, body);
  const loading = res.status === 503 && (error.code === null || error.code === "not_ready");
  return { state: loading ? "loading" : "failed", message: error.message };
}

/** True when `GET /healthz` answers 200 (the server is up and its models are loaded). */
export async function isHealthy(options: ClientOptions): Promise<boolean> {
  return (await health(options)).state === "ready";
}

/** `POST /v1/suggest`; resolves to the validated answer or rejects with a StartrefError. */
export async function suggest(options: ClientOptions, body: SuggestRequest): Promise<SuggestResponse> {
  const res = await request(options, "/v1/suggest", { method: "POST", body: JSON.stringify(body) });
  const raw = await res.text();
  if (res.status !== 200) throw errorFromBody(res.status, raw);
  try {
    return parseSuggestResponse(JSON.parse(raw));
  } catch (err) {
    const why = err instanceof ProtocolError ? err.message : "the answer is not JSON";
    throw new StartrefError(`startref server sent an unexpected answer: ${why}`, "protocol", res.status);
  }
}
