/**
 * The service worker: the only part that talks to the local server (host_permissions for loopback), with the
 * token from the options. Its requests carry the extension's own origin, chrome-extension://<id>, which the
 * server allows with `--allow-extension <id>`; pages (Overleaf included) stay refused.
 */
import { parseWorkerMessage } from "../core/messages";
import { parseSettings } from "../core/settings";
import { checkServer, suggestFor } from "../core/suggest";
import type { SuggestContext } from "../core/suggest";

async function context(): Promise<SuggestContext> {
  const { settings } = parseSettings(await chrome.storage.local.get(null));
  return { settings, extensionId: chrome.runtime.id, fetch: (url, init) => fetch(url, init) };
}

chrome.runtime.onMessage.addListener((raw, sender, sendResponse) => {
  if (sender.id !== chrome.runtime.id) return false;
  const message = parseWorkerMessage(raw);
  if (!message) {
    sendResponse({ ok: false, code: "protocol", title: "Unknown message", detail: "the extension's parts disagree; reload the tab", command: "" });
    return false;
  }
  const work = message.kind === "suggest"
    ? context().then((ctx) => suggestFor(message, ctx))
    : context().then((ctx) => checkServer(ctx));
  work.then(sendResponse, (err: unknown) =>
    sendResponse({ ok: false, code: "extension", title: "startref failed", detail: String(err), command: "" }));
  return true; // answer asynchronously
});

chrome.runtime.onInstalled.addListener((details) => {
  if (details.reason === "install") void chrome.runtime.openOptionsPage();
});
