/**
 * What the browser tests share: the real `startref serve` (from STARTREF_PYTHON, on a free port, allowing exactly
 * the extension), Debian's Chromium with the unpacked extension loaded (playwright-core, persistent context,
 * new headless), and small helpers to drive the stand-in editor.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import type { BrowserContext, Page } from "playwright-core";

export const PACKAGE_ROOT = resolve(__dirname, "..", "..", "..");
export const REPO_ROOT = resolve(PACKAGE_ROOT, "..", "..");
export const DIST = join(PACKAGE_ROOT, "dist");
export const EDITOR_BUNDLE = join(PACKAGE_ROOT, "out", "standin", "editor.js");
export const BENCH = process.env.STARTREF_BENCH ?? resolve(REPO_ROOT, "..", "shared", "bench");
export const CHROMIUM = process.env.STARTREF_CHROMIUM ?? "/usr/bin/chromium";
const PYTHON = resolve(PACKAGE_ROOT, process.env.STARTREF_PYTHON ?? "../../.venv/bin/python");
const SERVER_ARGS = (process.env.STARTREF_SERVER_ARGS ?? "--no-generator").split(/\s+/).filter((a) => a !== "");

/** The repo-wide rule (scripts/real-tools.cjs): a missing prerequisite skips the browser test on a developer's
 * machine and fails it under CI=true (or STARTREF_REAL_TOOLS=require): it must not pass by not running. */
const realTools = require(join(REPO_ROOT, "scripts", "real-tools.cjs")) as {
  skipUnlessPresent(what: string, missing: string[]): string | false;
};

/** Why the test cannot run, or null (throws under CI, see above). */
export function missingPrerequisite(): string | null {
  const reason = realTools.skipUnlessPresent("the Overleaf browser test", [
    !existsSync(CHROMIUM) ? `${CHROMIUM} (apt-get install -y chromium; make system-deps)` : "",
    !existsSync(PYTHON) ? `${PYTHON} (set STARTREF_PYTHON)` : "",
  ]);
  return reason === false ? null : reason;
}

/** The id Chromium gives an extension whose manifest has this `key` (sha256 of the key, first 32 hex as a-p). */
export function extensionIdOfKey(base64Key: string): string {
  const hex = createHash("sha256").update(Buffer.from(base64Key, "base64")).digest("hex").slice(0, 32);
  return [...hex].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join("");
}

export const EXTENSION_ID = extensionIdOfKey(JSON.parse(readFileSync(join(PACKAGE_ROOT, "static", "manifest.json"), "utf8")).key);

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.on("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => done(port));
    });
  });
}

export interface RunningServer {
  url: string;
  token: string;
  log: string[];
  stop(): Promise<void>;
}

/** `python -m startref serve` on a free port with a token and `--allow-extension <our id>`; waits for /healthz. */
export async function startServer(extraArgs: string[] = []): Promise<RunningServer> {
  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  const args = ["-m", "startref", "serve", "--port", String(port), "--token", token, "--allow-extension", EXTENSION_ID, ...SERVER_ARGS, ...extraArgs];
  const child: ChildProcess = spawn(PYTHON, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PYTHONUNBUFFERED: "1" } });
  const log: string[] = [];
  const keep = (chunk: Buffer): void => void log.push(...chunk.toString("utf8").split("\n").filter((l) => l !== ""));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`startref serve exited with ${child.exitCode}:\n${log.slice(-30).join("\n")}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  if (Date.now() >= deadline) throw new Error(`startref serve was not ready after 180 s:\n${log.slice(-30).join("\n")}`);
  return {
    url, token, log,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await new Promise((r) => { child.once("exit", r); setTimeout(r, 5000); });
    },
  };
}

export interface Browser {
  context: BrowserContext;
  extensionId: string;
  close(): Promise<void>;
}

/** Chromium with the unpacked extension (persistent context: extensions need one), new headless, as root-safe flags. */
export async function launchWithExtension(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "startref-overleaf-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: false, // "--headless=new" below: the old headless mode cannot load extensions
    viewport: { width: 1100, height: 900 },
    args: [
      "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      `--disable-extensions-except=${DIST}`, `--load-extension=${DIST}`,
    ],
  });
  let worker = context.serviceWorkers().find((w) => w.url().startsWith("chrome-extension://"));
  if (!worker) worker = await context.waitForEvent("serviceworker", { timeout: 30_000 });
  const extensionId = new URL(worker.url()).host;
  return {
    context, extensionId,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Save settings through the real options page (as a user would). */
export async function saveOptions(context: BrowserContext, extensionId: string, values: Record<string, string | boolean>): Promise<void> {
  const page = await context.newPage();
  const url = `chrome-extension://${extensionId}/options.html`;
  // On first install the extension opens its options page itself (chrome.runtime.openOptionsPage), and Chromium
  // may serve that by re-navigating our tab: our goto then fails with "interrupted by another navigation" to the
  // same page, once or (seen in CI) twice. Wait that out, a few times at most; any other error is real.
  for (let attempt = 1; ; attempt++) {
    try {
      await page.goto(url);
      break;
    } catch (err) {
      if (attempt >= 5 || !/interrupted by another navigation/.test(String(err))) throw err;
      await page.waitForTimeout(200);
    }
  }
  // Wait for the page to fill its form from storage. Not waitForFunction: while its predicate is false Playwright
  // polls it with eval, which an extension page's CSP (script-src 'self') refuses — the test then failed whenever
  // the form was not filled at the first look. inputValue needs no eval.
  const deadline = Date.now() + 10_000;
  while ((await page.inputValue("#serverUrl")) === "") {
    if (Date.now() > deadline) throw new Error("the options page never filled its form");
    await page.waitForTimeout(50);
  }
  for (const [name, value] of Object.entries(values)) {
    if (typeof value === "boolean") await page.setChecked(`#${name}`, value);
    else await page.fill(`#${name}`, value);
  }
  await page.click("#save");
  await page.waitForSelector("#status.ok, #status.bad");
  const status = await page.textContent("#status");
  const problems = await page.locator("#problems li").allTextContents();
  await page.close();
  if (!status?.startsWith("Saved")) throw new Error(`options not saved: ${status} ${problems.join("; ")}`);
}

/** Replace the stand-in editor's text and put the cursor at `cursor` (the test harness's handle, not the extension's). */
export async function setDoc(page: Page, text: string, cursor: number): Promise<void> {
  await page.evaluate(({ text, cursor }) => {
    type View = { state: { doc: { length: number } }; dispatch(s: unknown): void; focus(): void; constructor: { scrollIntoView(pos: number, o: object): unknown } };
    const view = (window as unknown as { standinView: View }).standinView;
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text }, selection: { anchor: cursor } });
    view.dispatch({ effects: view.constructor.scrollIntoView(cursor, { y: "start", yMargin: 160 }) });
    view.focus();
  }, { text, cursor });
}

export async function docText(page: Page): Promise<string> {
  return page.evaluate(() => (window as unknown as { standinView: { state: { doc: { toString(): string } } } }).standinView.state.doc.toString());
}

/** A citation site of `tex`: the text with one `\cite..{keys}` removed, the cursor where it was, and the keys. */
export function citeSites(tex: string): Array<{ text: string; cursor: number; keys: string[]; command: string }> {
  const sites: Array<{ text: string; cursor: number; keys: string[]; command: string }> = [];
  const begin = tex.indexOf("\\begin{document}");
  for (const m of tex.matchAll(/~?\\(cite[pt]?|citealp|parencite|textcite|autocite)\*?(?:\[[^\]]*\])?\{([^}]+)\}/g)) {
    if (m.index === undefined || m.index < begin) continue;
    const lineStart = tex.lastIndexOf("\n", m.index) + 1;
    if (tex.slice(lineStart, m.index).includes("%")) continue;
    sites.push({
      text: tex.slice(0, m.index) + tex.slice(m.index + m[0].length),
      cursor: m.index,
      keys: m[2].split(",").map((k) => k.trim()),
      command: m[1],
    });
  }
  return sites;
}

export const POPUP = "#startref-popup";
export const ROWS = "#startref-popup li[role=option]";
