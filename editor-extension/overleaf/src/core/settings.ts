/**
 * The extension's settings as plain data: defaults, and a tolerant parser for what chrome.storage holds (an older
 * version's keys, a hand-edited value) that reports each problem instead of throwing, so a bad value never
 * silently disables the hotkey: the default is used and the options page and the popup say why.
 */
import { DEFAULT_HOTKEY, formatHotkey, parseHotkey } from "./hotkey";

export interface Settings {
  /** Base URL of `startref serve`; loopback only. */
  serverUrl: string;
  /** The server's --token ("" = none). */
  token: string;
  /** e.g. "Ctrl-Alt-R". */
  hotkey: string;
  /** How many candidates to ask for. */
  k: number;
  /** Cite command for new citations ("" = the document's dominant command). */
  citeCommand: string;
  /** .bib files on this computer, read by the server (a Zotero/Better BibTeX export, a git clone of the project). */
  bibPaths: string[];
  /** Read the open project's .bib files from Overleaf (same origin, the user's session). */
  useProjectBib: boolean;
}

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  serverUrl: "http://127.0.0.1:8765",
  token: "",
  hotkey: DEFAULT_HOTKEY,
  k: 8,
  citeCommand: "",
  bibPaths: [],
  useProjectBib: true,
});

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Null when `url` is an http(s) URL of a loopback host, else why not. */
export function serverUrlProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"${url}" is not a URL (expected e.g. http://127.0.0.1:8765)`;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return `"${url}" must start with http:// or https://`;
  if (!LOOPBACK.has(parsed.hostname)) {
    return `"${url}": the server must be on this computer (127.0.0.1, localhost or [::1]); the extension may only reach loopback`;
  }
  if (parsed.pathname !== "/" || parsed.search || parsed.hash) return `"${url}" must not have a path (just scheme, host and port)`;
  return null;
}

/** One path per line; blank lines and `#` comments skipped; each must be an absolute path to a .bib file. */
export function parseBibPaths(text: string): { paths: string[]; problems: string[] } {
  const paths: string[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const absolute = line.startsWith("/") || line.startsWith("~/") || /^[A-Za-z]:[\\/]/.test(line);
    if (!absolute) problems.push(`line ${index + 1}: "${line}" is not an absolute path`);
    else if (!/\.bib$/i.test(line)) problems.push(`line ${index + 1}: "${line}" is not a .bib file`);
    else if (!paths.includes(line)) paths.push(line);
  });
  return { paths, problems };
}

/** Settings from whatever storage holds; unknown keys ignored, each bad value replaced by its default and reported. */
export function parseSettings(raw: unknown, isMac = false): { settings: Settings; problems: string[] } {
  const settings: Settings = { ...DEFAULT_SETTINGS, bibPaths: [] };
  const problems: string[] = [];
  if (raw === null || typeof raw !== "object") return { settings, problems };
  const r = raw as Record<string, unknown>;
  if (typeof r.serverUrl === "string" && r.serverUrl.trim() !== "") {
    const url = r.serverUrl.trim().replace(/\/+$/, "");
    const problem = serverUrlProblem(url);
    if (problem) problems.push(`server URL: ${problem}`);
    else settings.serverUrl = url;
  }
  if (typeof r.token === "string") settings.token = r.token.trim();
  if (typeof r.hotkey === "string" && r.hotkey.trim() !== "") {
    try {
      settings.hotkey = formatHotkey(parseHotkey(r.hotkey, isMac));
    } catch (err) {
      problems.push(`hotkey: ${(err as Error).message}; using ${DEFAULT_HOTKEY}`);
    }
  }
  if (r.k !== undefined) {
    const k = Number(r.k);
    if (Number.isInteger(k) && k >= 1 && k <= 50) settings.k = k;
    else problems.push(`candidates: ${String(r.k)} is not a whole number from 1 to 50`);
  }
  if (typeof r.citeCommand === "string") {
    const command = r.citeCommand.trim().replace(/^\\/, "");
    if (command === "" || /^[A-Za-z]+\*?$/.test(command)) settings.citeCommand = command;
    else problems.push(`cite command: "${r.citeCommand}" is not a command name like citep`);
  }
  if (Array.isArray(r.bibPaths) || typeof r.bibPaths === "string") {
    const text = Array.isArray(r.bibPaths) ? r.bibPaths.map(String).join("\n") : r.bibPaths;
    const parsed = parseBibPaths(text);
    settings.bibPaths = parsed.paths;
    problems.push(...parsed.problems.map((p) => `local .bib files: ${p}`));
  }
  if (typeof r.useProjectBib === "boolean") settings.useProjectBib = r.useProjectBib;
  return { settings, problems };
}

/** What the page script needs to know (it never sees the token). */
export interface PageConfig {
  hotkey: string;
  useProjectBib: boolean;
}

export function pageConfig(settings: Settings): PageConfig {
  return { hotkey: settings.hotkey, useProjectBib: settings.useProjectBib && settings.bibPaths.length === 0 };
}
