import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_SETTINGS, pageConfig, parseBibPaths, parseSettings, serverUrlProblem } from "../../src/core/settings";

test("nothing stored gives the defaults, with no problem", () => {
  assert.deepEqual(parseSettings({}), { settings: { ...DEFAULT_SETTINGS, bibPaths: [] }, problems: [] });
  assert.deepEqual(parseSettings(undefined).settings, { ...DEFAULT_SETTINGS, bibPaths: [] });
});

test("good values are normalised", () => {
  const { settings, problems } = parseSettings({
    serverUrl: " http://localhost:9000/ ", token: " t ", hotkey: "alt+shift+k", k: "12", citeCommand: "\\citep",
    bibPaths: "/home/me/zotero.bib\n\n# comment\n~/refs.bib\n/home/me/zotero.bib", useProjectBib: false,
  });
  assert.deepEqual(problems, []);
  assert.deepEqual(settings, {
    serverUrl: "http://localhost:9000", token: "t", hotkey: "Alt-Shift-K", k: 12, citeCommand: "citep",
    bibPaths: ["/home/me/zotero.bib", "~/refs.bib"], useProjectBib: false,
  });
});

test("each bad value falls back to its default and is reported", () => {
  const { settings, problems } = parseSettings({ serverUrl: "http://example.com:8765", hotkey: "r", k: 0, citeCommand: "cite{x}", bibPaths: ["refs.bib", "/a/b.txt"] });
  assert.equal(settings.serverUrl, DEFAULT_SETTINGS.serverUrl);
  assert.equal(settings.hotkey, DEFAULT_SETTINGS.hotkey);
  assert.equal(settings.k, DEFAULT_SETTINGS.k);
  assert.equal(settings.citeCommand, "");
  assert.deepEqual(settings.bibPaths, []);
  assert.equal(problems.length, 6, problems.join("\n"));
  assert.match(problems[0], /must be on this computer/);
  assert.ok(problems.some((p) => /line 1: "refs.bib" is not an absolute path/.test(p)));
  assert.ok(problems.some((p) => /line 2: "\/a\/b.txt" is not a .bib file/.test(p)));
});

test("the server URL must be loopback http(s) without a path", () => {
  assert.equal(serverUrlProblem("http://127.0.0.1:8765"), null);
  assert.equal(serverUrlProblem("http://[::1]:8765"), null);
  assert.match(serverUrlProblem("ftp://127.0.0.1") ?? "", /http/);
  assert.match(serverUrlProblem("http://127.0.0.1:8765/v1") ?? "", /path/);
  assert.match(serverUrlProblem("not a url") ?? "", /not a URL/);
});

test("Windows paths count as absolute", () => {
  assert.deepEqual(parseBibPaths("C:\\Users\\me\\refs.bib").paths, ["C:\\Users\\me\\refs.bib"]);
});

test("the page is told not to read the project's .bib when local files are named (they win on the server anyway)", () => {
  assert.deepEqual(pageConfig({ ...DEFAULT_SETTINGS, bibPaths: ["/a.bib"] }), { hotkey: "Ctrl-Alt-R", useProjectBib: false });
  assert.deepEqual(pageConfig({ ...DEFAULT_SETTINGS, bibPaths: [] }), { hotkey: "Ctrl-Alt-R", useProjectBib: true });
});
