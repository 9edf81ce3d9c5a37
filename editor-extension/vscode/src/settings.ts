/**
 * Settings parsing, kept apart from `vscode` so that defaults, clamping and error messages are unit-tested.
 * The extension passes `workspace.getConfiguration("startref")` values in as a plain record.
 */

export interface Settings {
  /** Base URL without a trailing slash, e.g. "http://127.0.0.1:8765". */
  serverUrl: string;
  token: string;
  k: number;
  /** Cite command override without backslash ("citep"); "" keeps the document's style. */
  citeCommand: string;
  autoStart: boolean;
  serverCommand: string[];
  pythonPath: string;
  serverArgs: string[];
  startTimeoutMs: number;
  requestTimeoutMs: number;
}

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  serverUrl: "http://127.0.0.1:8765",
  token: "",
  k: 5,
  citeCommand: "",
  autoStart: true,
  serverCommand: [],
  pythonPath: "",
  serverArgs: [],
  startTimeoutMs: 120_000,
  requestTimeoutMs: 30_000,
});

/** The server accepts at most this many candidates (issue 3). */
export const MAX_K = 50;

/** A setting with a value that cannot be used; the message names the setting. */
export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SettingsError";
  }
}

function stringList(name: string, value: unknown): string[] {
  if (value === undefined || value === null || value === "") return [];
  if (typeof value === "string") return value.trim().split(/\s+/);
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
  throw new SettingsError(`startref.${name} must be a list of strings`);
}

function text(name: string, value: unknown, fallback: string): string {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "string") throw new SettingsError(`startref.${name} must be a string`);
  return value.trim();
}

function integer(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null || value === "") return fallback;
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n)) {
    throw new SettingsError(`startref.${name} must be a number, got ${JSON.stringify(value)}`);
  }
  return Math.min(max, Math.max(min, Math.round(n)));
}

/** Parse a raw settings record (missing keys take defaults); throws SettingsError naming the bad setting. */
export function parseSettings(raw: Record<string, unknown>): Settings {
  const url = text("serverUrl", raw.serverUrl, DEFAULT_SETTINGS.serverUrl).replace(/\/+$/, "");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SettingsError(`startref.serverUrl is not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new SettingsError(`startref.serverUrl must start with http:// or https://, got ${JSON.stringify(url)}`);
  }
  const citeCommand = text("citeCommand", raw.citeCommand, "").replace(/^\\/, "");
  if (citeCommand !== "" && !/^[A-Za-z]+\*?$/.test(citeCommand)) {
    throw new SettingsError(`startref.citeCommand must be a command name like "citep", got ${JSON.stringify(citeCommand)}`);
  }
  const autoStart = raw.autoStart === undefined || raw.autoStart === null ? true : raw.autoStart;
  if (typeof autoStart !== "boolean") throw new SettingsError("startref.autoStart must be true or false");
  return {
    serverUrl: url,
    token: text("token", raw.token, ""),
    k: integer("k", raw.k, DEFAULT_SETTINGS.k, 1, MAX_K),
    citeCommand,
    autoStart,
    serverCommand: stringList("serverCommand", raw.serverCommand),
    pythonPath: text("pythonPath", raw.pythonPath, ""),
    serverArgs: stringList("serverArgs", raw.serverArgs),
    startTimeoutMs: integer("startTimeoutSeconds", raw.startTimeoutSeconds, 120, 5, 3600) * 1000,
    requestTimeoutMs: integer("requestTimeoutSeconds", raw.requestTimeoutSeconds, 30, 1, 600) * 1000,
  };
}

/** The port of the server URL (explicit, or the scheme's default). */
export function serverPort(serverUrl: string): number {
  const url = new URL(serverUrl);
  if (url.port) return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
}

/** True when the URL names this machine, so starting a server for it makes sense. */
export function isLoopback(serverUrl: string): boolean {
  const host = new URL(serverUrl).hostname;
  return host === "localhost" || host === "[::1]" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The argv that starts the server for these settings, the URL's port appended as `--port`.
 * Order of preference: an explicit serverCommand, `<pythonPath> -m startref.server`, `startref serve`.
 */
export function serverArgv(settings: Settings): string[] {
  let base: string[];
  if (settings.serverCommand.length > 0) base = [...settings.serverCommand];
  else if (settings.pythonPath) base = [settings.pythonPath, "-m", "startref.server"];
  else base = ["startref", "serve"];
  const argv = [...base, "--port", String(serverPort(settings.serverUrl))];
  const host = new URL(settings.serverUrl).hostname;
  if (host !== "127.0.0.1") argv.push("--host", host.replace(/^\[|\]$/g, ""));
  if (settings.token) argv.push("--token", settings.token);
  return [...argv, ...settings.serverArgs];
}
