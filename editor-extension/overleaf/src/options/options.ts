/**
 * The options page: hotkey (recorded from a key press, checked against Overleaf's and the browser's shortcuts),
 * server URL, token, local .bib paths. Values are checked with the same parser the other parts read them with,
 * and saved only when valid, so what is saved is what runs.
 */
import { conflictsOf, formatHotkey, parseHotkey } from "../core/hotkey";
import { parseSettings } from "../core/settings";
import type { Settings } from "../core/settings";
import { startCommand } from "../core/suggest";

const isMac = /Mac/.test(navigator.platform);
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const form = $<HTMLFormElement>("form");
const status = $<HTMLSpanElement>("status");
const problemsList = $<HTMLUListElement>("problems");

function fill(settings: Settings): void {
  $<HTMLInputElement>("hotkey").value = settings.hotkey;
  $<HTMLInputElement>("serverUrl").value = settings.serverUrl;
  $<HTMLInputElement>("token").value = settings.token;
  $<HTMLInputElement>("useProjectBib").checked = settings.useProjectBib;
  $<HTMLTextAreaElement>("bibPaths").value = settings.bibPaths.join("\n");
  $<HTMLInputElement>("k").value = String(settings.k);
  $<HTMLInputElement>("citeCommand").value = settings.citeCommand;
  $<HTMLElement>("command").textContent = startCommand(chrome.runtime.id, settings.serverUrl, settings.token);
  noteHotkey();
}

function read(): Record<string, unknown> {
  return {
    hotkey: $<HTMLInputElement>("hotkey").value,
    serverUrl: $<HTMLInputElement>("serverUrl").value,
    token: $<HTMLInputElement>("token").value,
    useProjectBib: $<HTMLInputElement>("useProjectBib").checked,
    bibPaths: $<HTMLTextAreaElement>("bibPaths").value,
    k: $<HTMLInputElement>("k").value,
    citeCommand: $<HTMLInputElement>("citeCommand").value,
  };
}

function show(kind: "ok" | "bad" | "", text: string, problems: string[] = [], command = ""): void {
  status.className = kind;
  status.textContent = text;
  problemsList.replaceChildren(...problems.map((p) => Object.assign(document.createElement("li"), { className: "problem", textContent: p })));
  const cmd = $<HTMLElement>("status-command");
  cmd.hidden = command === "";
  cmd.textContent = command;
}

function noteHotkey(): void {
  const note = $<HTMLDivElement>("hotkey-note");
  try {
    const conflicts = conflictsOf(parseHotkey($<HTMLInputElement>("hotkey").value, isMac), isMac);
    note.className = conflicts.length ? "hint problem" : "hint";
    note.textContent = conflicts.length ? `Takes over: ${conflicts.join("; ")}` : "Collides with none of Overleaf's or the browser's shortcuts we know of.";
  } catch (err) {
    note.className = "hint problem";
    note.textContent = (err as Error).message;
  }
}

$<HTMLInputElement>("hotkey").addEventListener("keydown", (event) => {
  if (["Control", "Alt", "Shift", "Meta", "Tab"].includes(event.key)) return;
  if (!event.ctrlKey && !event.altKey && !event.metaKey) return; // typing the hotkey as text
  event.preventDefault();
  const key = /^Key[A-Z]$/.test(event.code) ? event.code.slice(3) : /^Digit\d$/.test(event.code) ? event.code.slice(5) : event.key;
  try {
    $<HTMLInputElement>("hotkey").value = formatHotkey(parseHotkey(
      [event.ctrlKey && "Ctrl", event.altKey && "Alt", event.shiftKey && "Shift", event.metaKey && "Meta", key].filter(Boolean).join("-"), isMac));
  } catch {
    $<HTMLInputElement>("hotkey").value = key;
  }
  noteHotkey();
});
$<HTMLInputElement>("hotkey").addEventListener("input", noteHotkey);

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const { settings, problems } = parseSettings(read(), isMac);
  if (problems.length > 0) {
    show("bad", "Not saved:", problems);
    return;
  }
  void chrome.storage.local.set({ ...settings }).then(() => {
    fill(settings);
    show("ok", "Saved. Open Overleaf tabs use it at once.");
  });
});

$<HTMLButtonElement>("test").addEventListener("click", () => {
  show("", "Testing…");
  void (chrome.runtime.sendMessage({ kind: "health" }) as Promise<{ ok: boolean; title: string; detail: string; command: string }>)
    .then((r) => show(r.ok ? "ok" : "bad", `${r.title}: ${r.detail}`, [], r.command));
});

$<HTMLElement>("extension-id").textContent = chrome.runtime.id;
void chrome.storage.local.get(null).then((stored) => {
  const { settings, problems } = parseSettings(stored, isMac);
  fill(settings);
  if (problems.length) show("bad", "Stored settings had problems; defaults are used for:", problems);
});
