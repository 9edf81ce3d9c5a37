/**
 * Real VS Code: code-server (VS Code's own workbench served to a browser) with the packaged .vsix installed,
 * driven headless by playwright-core and Debian's Chromium. It presses the hotkey in a real paper, accepts the
 * preselected top item, saves, and reads the inserted \citep{key} back from disk; then checks that Escape
 * inserts nothing. The extension starts the real `startref serve` itself through its settings.
 *
 * Needs: STARTREF_CODE_SERVER_DIR (a folder whose node_modules has code-server 4.100.x and playwright-core,
 * made by scripts/setup-e2e.sh), /usr/bin/chromium, and the .vsix at STARTREF_VSIX (default startref.vsix).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { health } from "../../src/client";

const PACKAGE_ROOT = resolve(__dirname, "..", "..", "..");
const REPO_ROOT = resolve(PACKAGE_ROOT, "..", "..");
const PYTHON = resolve(PACKAGE_ROOT, process.env.STARTREF_PYTHON ?? "../../.venv/bin/python");
/** Extra server flags (space separated), e.g. "--no-generator --model-dir DIR"; retrieval only by default. */
const SERVER_ARGS = (process.env.STARTREF_SERVER_ARGS ?? "--no-generator").split(/\s+/).filter((a) => a !== "");
const CS_DIR = process.env.STARTREF_CODE_SERVER_DIR ?? "";
const CHROMIUM = process.env.STARTREF_CHROMIUM ?? "/usr/bin/chromium";
const VSIX = resolve(PACKAGE_ROOT, process.env.STARTREF_VSIX ?? "startref.vsix");
const PAPER = join(process.env.STARTREF_BENCH ?? resolve(REPO_ROOT, "..", "shared", "bench"), "papers", "lh3__minimap2", "tex");
const SCREENSHOT = process.env.STARTREF_SCREENSHOT ?? join(PACKAGE_ROOT, "out", "e2e-screenshot.png");
const MASKED = "minimizers~\\citep{Roberts:2004fv}";

/** The few playwright-core calls used here (the package is loaded from STARTREF_CODE_SERVER_DIR at run time). */
interface Keyboard { press(key: string): Promise<void>; type(text: string, o?: { delay?: number }): Promise<void> }
interface Locator { first(): Locator; waitFor(o?: { state?: string; timeout?: number }): Promise<void>; innerText(): Promise<string>; count(): Promise<number> }
interface Page {
  goto(url: string, o?: { timeout?: number }): Promise<unknown>;
  keyboard: Keyboard;
  locator(selector: string): Locator;
  screenshot(o: { path: string }): Promise<unknown>;
  waitForTimeout(ms: number): Promise<void>;
  setViewportSize(s: { width: number; height: number }): Promise<void>;
}
interface Browser { newPage(): Promise<Page>; close(): Promise<void> }
interface Playwright { chromium: { launch(o: { executablePath: string; headless: boolean; args: string[] }): Promise<Browser> } }

let scratch = "";
let codeServer: ChildProcess | null = null;
let browser: Browser | null = null;
let page: Page;
let serverUrl = "";
let texPath = "";
let maskedText = "";
let cursorLine = 0;
let cursorColumn = 0;
let cursorOffset = 0;

async function freePort(): Promise<number> {
  return new Promise((done) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => done(port));
    });
  });
}

async function waitFor(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}

/** The repo-wide rule (scripts/real-tools.cjs): missing prerequisites skip this test, except under CI=true. */
const realTools = require(join(REPO_ROOT, "scripts", "real-tools.cjs")) as {
  skipUnlessPresent(what: string, missing: string[]): string | false;
};
const skip = realTools.skipUnlessPresent("real VS Code", [
  !CS_DIR || !existsSync(join(CS_DIR, "node_modules", "code-server")) ? "code-server (run scripts/setup-e2e.sh; set STARTREF_CODE_SERVER_DIR)" : "",
  !existsSync(CHROMIUM) ? `${CHROMIUM} (apt-get install -y chromium)` : "",
  !existsSync(VSIX) ? `${VSIX} (npm run package)` : "",
]);

before(async () => {
  if (skip) return;
  scratch = mkdtempSync(join(tmpdir(), "startref-vscode-e2e-"));
  const workspace = join(scratch, "paper");
  const userData = join(scratch, "user-data");
  const extensions = join(scratch, "extensions");
  mkdirSync(join(userData, "User"), { recursive: true });
  mkdirSync(workspace);
  copyFileSync(join(PAPER, "minimap2.bib"), join(workspace, "minimap2.bib"));
  const original = readFileSync(join(PAPER, "minimap2.tex"), "utf8");
  const at = original.indexOf(MASKED);
  assert.ok(at > 0);
  const cursor = at + "minimizers".length;
  maskedText = original.slice(0, cursor) + original.slice(at + MASKED.length);
  texPath = join(workspace, "minimap2.tex");
  writeFileSync(texPath, maskedText);
  cursorOffset = cursor;
  const before = maskedText.slice(0, cursor);
  cursorLine = before.split("\n").length; // 1-based for "Go to Line"
  cursorColumn = cursor - before.lastIndexOf("\n"); // 1-based

  serverUrl = `http://127.0.0.1:${await freePort()}`;
  writeFileSync(join(userData, "User", "settings.json"), JSON.stringify({
    "startref.serverUrl": serverUrl,
    "startref.pythonPath": PYTHON,
    "startref.serverArgs": SERVER_ARGS,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.enableExperiments": false,
    "security.workspace.trust.enabled": false,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoCheckUpdates": false,
    "extensions.autoUpdate": false,
    "editor.quickSuggestions": { other: false, comments: false, strings: false },
    "editor.suggestOnTriggerCharacters": false,
    "files.autoSave": "off",
    "window.zoomLevel": 0,
  }, null, 2));

  const bin = join(CS_DIR, "node_modules", ".bin", "code-server");
  const env = { ...process.env, XDG_CONFIG_HOME: join(scratch, "config"), XDG_DATA_HOME: join(scratch, "data") };
  const common = ["--user-data-dir", userData, "--extensions-dir", extensions];
  const install = spawnSync(bin, [...common, "--install-extension", VSIX], { env, encoding: "utf8", timeout: 60_000 });
  assert.equal(install.status, 0, `installing the vsix failed: ${install.stderr}${install.stdout}`);

  const port = await freePort();
  codeServer = spawn(bin, [
    ...common, "--auth", "none", "--bind-addr", `127.0.0.1:${port}`, "--disable-telemetry",
    "--disable-update-check", "--disable-workspace-trust", workspace,
  ], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let log = "";
  codeServer.stdout?.on("data", (d: Buffer) => (log += d.toString()));
  codeServer.stderr?.on("data", (d: Buffer) => (log += d.toString()));
  await waitFor(`code-server on port ${port}\n${log}`, async () => log.includes("HTTP server listening"), 30_000);

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const playwright = require(join(CS_DIR, "node_modules", "playwright-core")) as Playwright;
  browser = await playwright.chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage"],
  });
  page = await browser.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`, { timeout: 60_000 });
  await page.locator(".monaco-workbench").waitFor({ timeout: 60_000 });
});

after(async () => {
  await browser?.close().catch(() => undefined);
  if (codeServer?.pid) {
    try {
      process.kill(-codeServer.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function openAtCursor(): Promise<void> {
  await page.keyboard.press("Control+p");
  await page.locator(".quick-input-widget input").first().waitFor({ state: "visible", timeout: 20_000 });
  await page.keyboard.type("minimap2.tex", { delay: 20 });
  await page.locator(".quick-input-list .monaco-list-row").first().waitFor({ timeout: 20_000 });
  await page.keyboard.press("Enter");
  await page.locator(".monaco-editor .view-lines").first().waitFor({ timeout: 20_000 });
  await page.waitForTimeout(500);
  await page.keyboard.press("Control+g");
  await page.locator(".quick-input-widget input").first().waitFor({ state: "visible", timeout: 10_000 });
  await page.keyboard.type(`${cursorLine}:${cursorColumn}`, { delay: 20 });
  await page.keyboard.press("Enter");
  await page.waitForTimeout(300);
}

test("hotkey in real VS Code: QuickPick best first, Enter inserts \\citep{top}, Escape inserts nothing", { skip, timeout: 180_000 }, async () => {
  await openAtCursor();
  // The extension activates on the LaTeX file and starts the real server itself (auto-start).
  await waitFor(`the startref server at ${serverUrl} started by the extension`,
    async () => {
      const now = await health({ serverUrl, timeoutMs: 1000 });
      if (now.state === "failed") throw new Error(`the server started by the extension failed: ${now.message}`);
      return now.state === "ready";
    }, 120_000);

  await page.keyboard.press("Control+Alt+r");
  const rows = page.locator(".quick-input-list .monaco-list-row");
  await rows.first().waitFor({ state: "visible", timeout: 60_000 });
  await page.waitForTimeout(300);
  const title = await page.locator(".quick-input-widget .quick-input-title").first().innerText();
  assert.match(title, /startref: Suggest citation/);
  const firstRow = await rows.first().innerText();
  mkdirSync(resolve(SCREENSHOT, ".."), { recursive: true });
  await page.screenshot({ path: SCREENSHOT });
  await page.keyboard.press("Enter");
  await page.waitForTimeout(300);
  await page.keyboard.press("Control+s");
  await waitFor("the saved file", async () => readFileSync(texPath, "utf8") !== maskedText, 15_000);

  const saved = readFileSync(texPath, "utf8");
  assert.equal(saved.slice(0, cursorOffset), maskedText.slice(0, cursorOffset), "text before the cursor changed");
  const inserted = saved.slice(cursorOffset, cursorOffset + saved.length - maskedText.length);
  const match = /^~?\\citep\{([^}]+)\}$/.exec(inserted);
  assert.ok(match, `unexpected insertion ${JSON.stringify(inserted)}`);
  const keys = readFileSync(join(PAPER, "minimap2.bib"), "utf8");
  assert.ok(keys.includes(`{${match[1]},`), `${match[1]} is not a key of minimap2.bib`);
  assert.ok(firstRow.includes(match[1]), `the inserted key ${match[1]} is not the preselected top row ${JSON.stringify(firstRow)}`);
  process.stdout.write(`# real VS Code inserted ${inserted}\n`);

  // Escape: the QuickPick opens and closes, the text stays as it is.
  await page.keyboard.press("Control+Alt+r");
  await rows.first().waitFor({ state: "visible", timeout: 60_000 });
  await page.keyboard.press("Escape");
  await page.waitForTimeout(300);
  await page.keyboard.press("Control+s");
  await page.waitForTimeout(1000);
  assert.equal(readFileSync(texPath, "utf8"), saved);
});
