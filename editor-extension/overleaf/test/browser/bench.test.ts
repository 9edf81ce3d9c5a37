/**
 * Benchmark mode (STARTREF_BENCH_MODE=1, `npm run bench`): keypress -> list latency in the real browser on the
 * dev papers of ../shared/bench, each served by the stand-in as an Overleaf project (its own .bib read through the
 * doc endpoint). Latency = the hotkey's keydown timestamp to the list being in the DOM, measured in the page.
 * Each page is left to finish its warm-up request first (the server indexes the project's .bib when it opens);
 * the first press is still reported apart from the rest.
 * Printed as a table; nothing is asserted about speed (targets live in benchmarks, not in timed tests).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startStandin } from "./standin";
import type { StandinDoc } from "./standin";
import { BENCH, citeSites, EDITOR_BUNDLE, launchWithExtension, missingPrerequisite, PACKAGE_ROOT, POPUP, saveOptions, setDoc, startServer } from "./harness";
import type { Browser, RunningServer } from "./harness";

const enabled = process.env.STARTREF_BENCH_MODE === "1";
const skip = enabled ? missingPrerequisite() : "benchmark mode is off (STARTREF_BENCH_MODE=1 turns it on)";
const PER_PAPER = Number(process.env.STARTREF_BENCH_SITES ?? 8);

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (at - lo);
}

let server: RunningServer;
let browser: Browser;

before(async () => {
  if (skip) return;
  server = await startServer();
  browser = await launchWithExtension();
  await saveOptions(browser.context, browser.extensionId, { serverUrl: server.url, token: server.token });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("keypress -> list latency on the dev papers", { skip: skip ?? false, timeout: 1_800_000 }, async () => {
  const papers = readdirSync(join(BENCH, "papers")).filter((p) => existsSync(join(BENCH, "papers", p, "SOURCE.txt"))).sort();
  const rows: Array<{ paper: string; bibs: number; warmup: number; cold: number; warm: number[]; server: number[]; overhead: number[]; errors: number }> = [];
  for (const paper of papers) {
    // the open doc is the .tex file with the most citations (in a thesis, a chapter rather than main.tex)
    const mostCited = (docs: StandinDoc[]) => docs.filter((d) => d.path.endsWith(".tex"))
      .sort((a, b) => citeSites(b.text).length - citeSites(a.text).length)[0];
    const standin = await startStandin(join(BENCH, "papers", paper), EDITOR_BUNDLE, mostCited).catch(() => null);
    if (!standin) continue;
    const all = citeSites(standin.mainDoc.text);
    const bibs = standin.docs.filter((d) => d.path.endsWith(".bib")).length;
    if (all.length === 0 || bibs === 0) {
      await standin.close();
      continue;
    }
    const step = Math.max(1, Math.floor(all.length / (PER_PAPER + 1)));
    const sites = all.filter((_, i) => i % step === 0).slice(0, PER_PAPER + 1);
    const page = await browser.context.newPage();
    const ready = new Promise<void>((done) => page.on("console", (m) => { if (m.text().includes("[startref] bibliography ready")) done(); }));
    const opened = performance.now();
    await page.goto(standin.url);
    await page.waitForFunction(() => document.documentElement.dataset.startrefEditor, undefined, { timeout: 20_000 });
    await Promise.race([ready, new Promise((r) => setTimeout(r, 120_000))]);
    const warmup = performance.now() - opened;
    const times: number[] = [];
    const server: number[] = [];
    let errors = 0;
    for (const site of sites) {
      await setDoc(page, site.text, site.cursor);
      await page.evaluate(() => delete document.documentElement.dataset.startrefLastLatencyMs);
      await page.keyboard.press("Control+Alt+r");
      const state = await page.waitForSelector(`${POPUP}[data-state=list], ${POPUP}[data-state=error]`, { state: "attached", timeout: 120_000 })
        .then((el) => el.getAttribute("data-state"));
      if (state === "list") {
        times.push(Number(await page.getAttribute("html", "data-startref-last-latency-ms")));
        server.push(Number(await page.getAttribute("html", "data-startref-last-server-ms")));
      }
      else errors++;
      await page.keyboard.press("Escape");
      await page.waitForFunction(() => !document.getElementById("startref-popup")?.dataset.state);
    }
    await page.close();
    await standin.close();
    const warmServer = server.slice(1);
    rows.push({ paper, bibs, warmup, cold: times[0] ?? NaN, warm: times.slice(1), server: warmServer, overhead: times.slice(1).map((t, i) => t - warmServer[i]), errors });
  }
  assert.ok(rows.length > 0, "no bench paper could be served");
  const warm = rows.flatMap((r) => r.warm);
  const warmServer = rows.flatMap((r) => r.server);
  const overhead = rows.flatMap((r) => r.overhead);
  const fmt = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : "-");
  const lines = [
    "| paper | .bib files | page open -> warm-up done ms | first press ms | warm p50 ms | warm p90 ms | server p50 ms | extension p50 ms | presses | errors |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map((r) => `| ${r.paper.slice(0, 48)} | ${r.bibs} | ${fmt(r.warmup)} | ${fmt(r.cold)} | ${fmt(quantile(r.warm, 0.5))} | ${fmt(quantile(r.warm, 0.9))} | ${fmt(quantile(r.server, 0.5))} | ${fmt(quantile(r.overhead, 0.5))} | ${r.warm.length + 1} | ${r.errors} |`),
    `| **all (${rows.length} papers)** | | ${fmt(quantile(rows.map((r) => r.warmup), 0.5))} (p50) | ${fmt(quantile(rows.map((r) => r.cold), 0.5))} (p50) | **${fmt(quantile(warm, 0.5))}** | ${fmt(quantile(warm, 0.9))} | ${fmt(quantile(warmServer, 0.5))} | **${fmt(quantile(overhead, 0.5))}** | ${warm.length + rows.length} | ${rows.reduce((n, r) => n + r.errors, 0)} |`,
  ];
  console.log(`\nkeypress -> list latency, Chromium + stand-in + startref serve ${process.env.STARTREF_SERVER_ARGS ?? "--no-generator"}\n${lines.join("\n")}`);
  writeFileSync(join(PACKAGE_ROOT, "out", "bench.md"), `${lines.join("\n")}\n`);
});
