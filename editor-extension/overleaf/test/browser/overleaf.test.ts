/**
 * The real thing, end to end: Debian's Chromium with the unpacked extension, the stand-in Overleaf page running a
 * real CodeMirror 6 editor on a real paper (lh3__minimap2 from ../shared/bench), and the real `startref serve`.
 * Press the hotkey, pick, read the editor's text back; Escape; the server refuses the page's origin and accepts
 * the extension's; the project .bib is read same-origin with the session and cached by ETag; the DOM fallback and
 * the loud failure.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { startStandin } from "./standin";
import type { Standin } from "./standin";
import {
  BENCH, citeSites, docText, EDITOR_BUNDLE, EXTENSION_ID, launchWithExtension, missingPrerequisite, POPUP, ROWS,
  saveOptions, setDoc, startServer,
} from "./harness";
import type { Browser, RunningServer } from "./harness";

const skip = missingPrerequisite();
if (skip) console.warn(`browser test skipped: ${skip}`);

const PAPER = join(BENCH, "papers", "lh3__minimap2", "tex");
const HOTKEY = "Control+Alt+r";

describe("startref for Overleaf in Chromium", { skip: skip ?? false, timeout: 600_000 }, () => {
  let server: RunningServer;
  let standin: Standin;
  let browser: Browser;
  let page: Page;

  before(async () => {
    [server, standin] = await Promise.all([startServer(), startStandin(PAPER, EDITOR_BUNDLE)]);
    browser = await launchWithExtension();
    await saveOptions(browser.context, browser.extensionId, { serverUrl: server.url, token: server.token });
    page = await browser.context.newPage();
    page.on("console", (m) => { if (m.type() === "error") console.log(`[page console] ${m.text()}`); });
    await page.goto(standin.url);
    await page.waitForSelector("html[data-startref-editor]", { timeout: 20_000 });
  });

  after(async () => {
    await browser?.close();
    await standin?.close();
    await server?.stop();
  });

  test("the unpacked extension has the id its manifest key promises", () => {
    assert.equal(browser.extensionId, EXTENSION_ID);
  });

  test("the editor is reached through Overleaf's UNSTABLE_editor:extensions hook", async () => {
    assert.equal(await page.getAttribute("html", "data-startref-editor"), "UNSTABLE_editor:extensions");
  });

  test("once the editor is open, the project's .bib is sent ahead (warm-up), so the first press is not the cold one", async () => {
    const deadline = Date.now() + 120_000;
    while (!server.log.some((l) => /POST \/v1\/suggest 200/.test(l)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.ok(server.log.some((l) => /POST \/v1\/suggest 200 .*cache=miss/.test(l)), server.log.slice(-5).join("\n"));
    assert.equal(standin.counts.get("doc-200"), 1, "the warm-up downloaded the .bib once, with the session");
  });

  test("hotkey -> list from the project's .bib -> ArrowDown Enter inserts \\citep{second key} at the cursor", async () => {
    const site = citeSites(standin.mainDoc.text)[3];
    await setDoc(page, site.text, site.cursor);
    await page.keyboard.press(HOTKEY);
    await page.waitForSelector(`${POPUP}[data-state=list]`, { state: "attached", timeout: 60_000 });
    const keys = await page.locator(ROWS).evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.key ?? ""));
    assert.ok(keys.length >= 2, `expected candidates, got ${JSON.stringify(keys)}`);
    const bibKeys = new Set([...standin.docs.filter((d) => d.path.endsWith(".bib"))[0].text.matchAll(/@\w+\s*\{\s*([^,\s]+)/g)].map((m) => m[1]));
    for (const key of keys) assert.ok(bibKeys.has(key), `${key} is not in the project's .bib`);
    const footer = await page.locator(`${POPUP} .foot`).textContent();
    assert.match(footer ?? "", /bibliography: project: minimap2\.bib \(\d+ entries\)/);
    assert.equal(standin.counts.get("doc-403") ?? 0, 0, "the .bib download must carry the session cookie");
    assert.equal(standin.counts.get("doc-200"), 1);
    if (process.env.STARTREF_SCREENSHOT) await page.screenshot({ path: process.env.STARTREF_SCREENSHOT });
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await page.waitForSelector(`${POPUP}[data-state]`, { state: "detached" }).catch(() => undefined);
    await page.waitForFunction((n) => (window as unknown as { standinView: { state: { doc: { length: number } } } }).standinView.state.doc.length > n, site.text.length);
    const expected = site.text.slice(0, site.cursor) + `\\citep{${keys[1]}}` + site.text.slice(site.cursor);
    assert.equal(await docText(page), expected);
    assert.ok(await page.evaluate(() => document.activeElement?.classList.contains("cm-content")), "the editor has the focus back");
  });

  test("inside an existing \\citep{a, |} the key goes into the braces; the second press revalidates the .bib by ETag (304)", async () => {
    const site = citeSites(standin.mainDoc.text)[5];
    const opened = `${site.text.slice(0, site.cursor)}~\\citep{${site.keys[0]}, }${site.text.slice(site.cursor)}`;
    const cursor = site.cursor + `~\\citep{${site.keys[0]}, `.length;
    await setDoc(page, opened, cursor);
    await page.keyboard.press(HOTKEY);
    await page.waitForSelector(`${POPUP}[data-state=list]`, { state: "attached", timeout: 60_000 });
    const first = await page.locator(ROWS).first().getAttribute("data-key");
    assert.ok(first);
    await page.keyboard.press("Enter");
    await page.waitForFunction((n) => (window as unknown as { standinView: { state: { doc: { length: number } } } }).standinView.state.doc.length > n, opened.length);
    assert.equal(await docText(page), opened.slice(0, cursor) + first + opened.slice(cursor));
    assert.ok((standin.counts.get("doc-304") ?? 0) >= 1, `expected a 304, counts: ${JSON.stringify([...standin.counts])}`);
    assert.equal(standin.counts.get("doc-200"), 1, "an unchanged .bib is not downloaded again");
  });

  test("Escape closes the list and inserts nothing", async () => {
    const site = citeSites(standin.mainDoc.text)[7];
    await setDoc(page, site.text, site.cursor);
    await page.keyboard.press(HOTKEY);
    await page.waitForSelector(`${POPUP}[data-state=list]`, { state: "attached", timeout: 60_000 });
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => !document.getElementById("startref-popup")?.dataset.state);
    await page.keyboard.press("Escape"); // a second Escape goes to the editor, not to us
    assert.equal(await docText(page), site.text);
    assert.ok(await page.evaluate(() => document.activeElement?.classList.contains("cm-content")), "the editor has the focus back");
  });

  test("the server refuses the page's own origin and accepts the extension's", async () => {
    const pageOrigin = new URL(standin.url).origin;
    const body = JSON.stringify({ text: "As shown by~", cursor: 12, bib_text: "@article{a, title={A}}" });
    const headers = { Authorization: `Bearer ${server.token}`, "Content-Type": "application/json" };
    const refused = await fetch(`${server.url}/v1/suggest`, { method: "POST", body, headers: { ...headers, Origin: pageOrigin } });
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, "forbidden_origin");
    const accepted = await fetch(`${server.url}/v1/suggest`, { method: "POST", body, headers: { ...headers, Origin: `chrome-extension://${EXTENSION_ID}` } });
    assert.equal(accepted.status, 200);
    // and from inside the page itself (Overleaf's origin): the browser gets no readable answer
    const fromPage = await page.evaluate(async (url) => {
      try {
        const res = await fetch(`${url}/healthz`);
        return `status ${res.status}`;
      } catch (err) {
        return `blocked: ${(err as Error).message}`;
      }
    }, server.url);
    assert.match(fromPage, /^blocked/);
    assert.ok(server.log.some((l) => l.includes("403")), "the server logged the refusal");
  });

  test("without the hook or the store, the DOM fallback (cmTile) finds the editor and the .bib comes from the project zip", async () => {
    const other = await browser.context.newPage();
    // a slow download: the page's prefetch is still downloading when the hotkey asks for the .bib, and the two
    // share that one download (the endpoint is rate-limited; a loaded CI machine once showed two)
    standin.zipDelayMs = 1500;
    try {
      await other.goto(`${standin.url}?hooks=dom`);
      await other.waitForFunction(() => document.documentElement.dataset.startrefEditor === "cmTile", undefined, { timeout: 20_000 });
      const site = citeSites(standin.mainDoc.text)[2];
      await setDoc(other, site.text, site.cursor);
      await other.keyboard.press(HOTKEY);
      await other.waitForSelector(`${POPUP}[data-state=list]`, { state: "attached", timeout: 60_000 });
      const first = await other.locator(ROWS).first().getAttribute("data-key");
      await other.keyboard.press("Enter");
      await other.waitForFunction((n) => (window as unknown as { standinView: { state: { doc: { length: number } } } }).standinView.state.doc.length > n, site.text.length);
      assert.equal(await docText(other), `${site.text.slice(0, site.cursor)}\\citep{${first}}${site.text.slice(site.cursor)}`);
      assert.equal(standin.counts.get("zip"), 1);
      assert.ok((standin.counts.get("entities") ?? 0) >= 1);
    } finally {
      standin.zipDelayMs = 0;
      await other.close();
    }
  });

  test("on @codemirror/view 6.38 (before cmTile) the DOM fallback is cmView, and the hotkey still inserts", async () => {
    const other = await browser.context.newPage();
    try {
      await other.goto(`${standin.url}?hooks=dom&view=6.38`);
      await other.waitForFunction(() => document.documentElement.dataset.startrefEditor === "cmView", undefined, { timeout: 20_000 });
      assert.ok(await other.evaluate(() => !("cmTile" in (document.querySelector(".cm-content") as object))), "this build has no cmTile");
      const site = citeSites(standin.mainDoc.text)[6];
      await setDoc(other, site.text, site.cursor);
      await other.keyboard.press(HOTKEY);
      await other.waitForSelector(`${POPUP}[data-state=list]`, { state: "attached", timeout: 60_000 });
      const first = await other.locator(ROWS).first().getAttribute("data-key");
      await other.keyboard.press("Enter");
      await other.waitForFunction((n) => (window as unknown as { standinView: { state: { doc: { length: number } } } }).standinView.state.doc.length > n, site.text.length);
      assert.equal(await docText(other), `${site.text.slice(0, site.cursor)}\\citep{${first}}${site.text.slice(site.cursor)}`);
    } finally {
      await other.close();
    }
  });

  test("a .cm-editor that no hook can reach gets a visible message, not silence", async () => {
    const other = await browser.context.newPage();
    try {
      await other.goto(`${standin.url}?hooks=none`);
      const banner = other.locator(`${POPUP} .banner`);
      await banner.waitFor({ timeout: 20_000 });
      assert.match((await banner.textContent()) ?? "", /cannot reach Overleaf's editor/);
      assert.equal(await other.getAttribute("html", "data-startref-editor"), "none");
    } finally {
      await other.close();
    }
  });

  test("a project without a .bib gets 'No bibliography found', saying why, instead of an empty list", async () => {
    const dir = mkdtempSync(join(tmpdir(), "startref-nobib-"));
    writeFileSync(join(dir, "main.tex"), "\\documentclass{article}\n\\begin{document}\nAs shown by~\n\\end{document}\n");
    const bare = await startStandin(dir, EDITOR_BUNDLE);
    const other = await browser.context.newPage();
    try {
      await other.goto(bare.url);
      await other.waitForFunction(() => document.documentElement.dataset.startrefEditor, undefined, { timeout: 20_000 });
      await setDoc(other, bare.mainDoc.text, bare.mainDoc.text.indexOf("~") + 1);
      await other.keyboard.press(HOTKEY);
      await other.waitForSelector(`${POPUP}[data-state=error]`, { state: "attached", timeout: 30_000 });
      const text = (await other.locator(`${POPUP} .error`).textContent()) ?? "";
      assert.match(text, /No bibliography found/);
      assert.match(text, /the Overleaf project has no \.bib file/);
      await other.keyboard.press("Escape");
    } finally {
      await other.close();
      await bare.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("local .bib paths from the options are read by the server instead of the project's", async () => {
    const bibPath = join(PAPER, "minimap2.bib");
    await saveOptions(browser.context, browser.extensionId, { serverUrl: server.url, token: server.token, bibPaths: bibPath });
    await new Promise((r) => setTimeout(r, 500)); // the storage change reaches the tab's content script
    const projectRequests = (standin.counts.get("doc-200") ?? 0) + (standin.counts.get("doc-304") ?? 0);
    const site = citeSites(standin.mainDoc.text)[9];
    await setDoc(page, site.text, site.cursor);
    await page.keyboard.press(HOTKEY);
    await page.waitForSelector(`${POPUP}[data-state=list]`, { state: "attached", timeout: 60_000 });
    const footer = (await page.locator(`${POPUP} .foot`).textContent()) ?? "";
    assert.ok(footer.startsWith(`bibliography: local: ${bibPath} (`) && /\(\d+ entries\)$/.test(footer), footer);
    assert.equal((standin.counts.get("doc-200") ?? 0) + (standin.counts.get("doc-304") ?? 0), projectRequests, "the project's .bib is not read when local files are named");
    await page.keyboard.press("Escape");
    await saveOptions(browser.context, browser.extensionId, { serverUrl: server.url, token: server.token, bibPaths: "" });
  });

  test("the hotkey is rebound from the options page: the new one opens the list, the old one no longer does", async () => {
    await saveOptions(browser.context, browser.extensionId, { serverUrl: server.url, token: server.token, hotkey: "alt+shift+k" });
    await new Promise((r) => setTimeout(r, 500)); // the storage change reaches the tab's content script, then the page
    const site = citeSites(standin.mainDoc.text)[4];
    await setDoc(page, site.text, site.cursor);
    await page.keyboard.press(HOTKEY);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await page.getAttribute(POPUP, "data-state"), null, "the old hotkey must not open the list");
    await page.keyboard.press("Alt+Shift+K");
    await page.waitForSelector(`${POPUP}[data-state=list]`, { state: "attached", timeout: 60_000 });
    await page.keyboard.press("Escape");
    assert.equal(await docText(page), site.text);
    await saveOptions(browser.context, browser.extensionId, { serverUrl: server.url, token: server.token, hotkey: "Ctrl-Alt-R" });
    await new Promise((r) => setTimeout(r, 500));
  });

  test("a wrong token and a stopped server are explained in the list, with the command to run", async () => {
    await saveOptions(browser.context, browser.extensionId, { serverUrl: server.url, token: "wrong" });
    const site = citeSites(standin.mainDoc.text)[1];
    await setDoc(page, site.text, site.cursor);
    await page.keyboard.press(HOTKEY);
    await page.waitForSelector(`${POPUP}[data-state=error]`, { state: "attached", timeout: 30_000 });
    assert.match((await page.locator(`${POPUP} .error`).textContent()) ?? "", /Wrong token/);
    await page.keyboard.press("Escape");
    await server.stop();
    await saveOptions(browser.context, browser.extensionId, { serverUrl: server.url, token: server.token });
    await setDoc(page, site.text, site.cursor);
    await page.keyboard.press(HOTKEY);
    await page.waitForSelector(`${POPUP}[data-state=error]`, { state: "attached", timeout: 30_000 });
    const text = (await page.locator(`${POPUP} .error`).textContent()) ?? "";
    assert.match(text, /not running/);
    assert.ok(text.includes(`startref serve --allow-extension ${EXTENSION_ID}`), text);
    await page.keyboard.press("Escape");
    assert.equal(await docText(page), site.text);
  });
});
