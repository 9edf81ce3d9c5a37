/**
 * The isolated-world content script: between the page script (which sees CodeMirror) and the service worker
 * (which talks to the server). It reads the settings, tells the page the hotkey, shows the list, and sends the
 * choice back. The page never sees the token; the service worker never sees the page.
 */
import { envelope, openEnvelope } from "../core/messages";
import type { ContentToPage, ProjectBib, SuggestMessage, Trigger } from "../core/messages";
import { pageConfig, parseSettings } from "../core/settings";
import type { Settings } from "../core/settings";
import type { SuggestReply } from "../core/suggest";
import { Popup } from "./popup";

const popup = new Popup();
let settings: Settings = parseSettings({}).settings;
let current = 0;

function toPage(message: ContentToPage): void {
  window.postMessage(envelope(message, "to-page"), window.location.origin);
}

async function loadSettings(): Promise<void> {
  const stored = await chrome.storage.local.get(null);
  const parsed = parseSettings(stored, /Mac/.test(navigator.platform));
  settings = parsed.settings;
  for (const problem of parsed.problems) console.warn(`[startref] settings: ${problem}`);
  toPage({ type: "config", config: pageConfig(settings) });
}

async function askWorker(trigger: Trigger): Promise<SuggestReply> {
  const message: SuggestMessage = { kind: "suggest", text: trigger.text, cursor: trigger.cursor, bib: trigger.bib, bibProblem: trigger.bibProblem };
  try {
    return (await chrome.runtime.sendMessage(message)) as SuggestReply;
  } catch (err) {
    return { ok: false, code: "extension", title: "The extension was updated or reloaded",
      detail: `Reload this Overleaf tab to reconnect (${(err as Error).message}).`, command: "" };
  }
}

/** Warm-up request at page load (the server parses and embeds the bibliography once); only a console line shows it. */
async function prefetch(bib: ProjectBib | null, bibProblem: string): Promise<void> {
  if (!bib && settings.bibPaths.length === 0) return;
  const message: SuggestMessage = { kind: "suggest", text: "As shown in~", cursor: 12, bib, bibProblem };
  try {
    const reply = (await chrome.runtime.sendMessage(message)) as SuggestReply;
    if (reply.ok) console.info(`[startref] bibliography ready: ${reply.bibliography}`);
    else console.info(`[startref] warm-up: ${reply.title}`);
  } catch (err) {
    console.info(`[startref] warm-up failed: ${(err as Error).message}`);
  }
}

async function onTrigger(trigger: Trigger): Promise<void> {
  current = trigger.id;
  const received = performance.now();
  const cancel = (): void => toPage({ type: "cancel", id: trigger.id });
  const base = { cancel, passOn: cancel, choose: cancel };
  popup.showLoading(trigger.caret, base);
  const reply = await askWorker(trigger);
  if (current !== trigger.id || !popup.isOpen) return; // Escape or a newer hotkey press while we waited
  if (!reply.ok) {
    console.error(`[startref] ${reply.title}: ${reply.detail} ${reply.command}`);
    popup.showFailure(trigger.caret, reply, base);
    return;
  }
  const answered = performance.now();
  popup.showList(trigger.caret, reply, {
    ...base,
    choose: (index) => {
      const row = reply.rows[index];
      if (!row) return cancel();
      toPage({ type: "insert", id: trigger.id, key: row.key, serverInsert: reply.serverInsert, topKey: reply.topKey, command: settings.citeCommand });
    },
  });
  // keypress -> list in the DOM, and where the time went (the benchmark reads these)
  const latency = performance.now() - trigger.t0;
  const phases = document.documentElement.dataset;
  phases.startrefLastLatencyMs = latency.toFixed(1);
  phases.startrefLastPageMs = (received - trigger.t0).toFixed(1);
  phases.startrefLastWorkerMs = (answered - received).toFixed(1);
  phases.startrefLastServerMs = reply.serverMs === null ? "" : reply.serverMs.toFixed(1);
}

window.addEventListener("message", (event) => {
  if (event.source !== window || event.origin !== window.location.origin) return;
  const message = openEnvelope(event.data, "to-content");
  if (!message) return;
  if (message.type === "status") {
    document.documentElement.dataset.startrefEditor = message.found ? message.via : "none";
    if (message.found) popup.hideBanner();
    else popup.showBanner(message.message);
  } else if (message.type === "trigger") {
    void onTrigger(message);
  } else if (message.type === "prefetch") {
    void prefetch(message.bib, message.bibProblem);
  } else if (!message.ok) {
    popup.showBanner(`startref could not insert the citation: ${message.detail}`);
    console.error(`[startref] insert failed: ${message.detail}`);
  }
});

chrome.storage.onChanged.addListener((_changes, area) => {
  if (area === "local") void loadSettings();
});

void loadSettings();
