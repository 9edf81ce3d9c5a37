import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_SETTINGS } from "../../src/core/settings";
import { bibliographyLabel, buildRequest, failureOf, positionAt, rowsOf, startCommand, suggestFor } from "../../src/core/suggest";
import type { SuggestMessage } from "../../src/core/messages";

const ID = "dhoinkfkfamfgodpogiijpkgajhmpdei";
const message: SuggestMessage = { kind: "suggest", text: "line one\nAs shown by~", cursor: 21, bib: { text: "@article{a,}", files: ["refs.bib"], version: "v" }, bibProblem: "" };
const settings = { ...DEFAULT_SETTINGS, bibPaths: [] as string[] };

test("the request sends the project's .bib as bib_text, or the local paths instead when the user named some", () => {
  assert.deepEqual(buildRequest(message, settings), { text: message.text, position: { line: 1, character: 12 }, k: 8, library: false, bib_text: "@article{a,}" });
  const local = buildRequest(message, { ...settings, bibPaths: ["/home/me/z.bib"], citeCommand: "autocite", k: 3 });
  assert.deepEqual(local, { text: message.text, position: { line: 1, character: 12 }, k: 3, library: false, bib: ["/home/me/z.bib"], command: "autocite" });
  assert.deepEqual(buildRequest({ ...message, bib: null }, settings).bib_text, undefined);
});

test("positions are LSP positions in UTF-16 units", () => {
  assert.deepEqual(positionAt("a\n𝔸b", 5), { line: 1, character: 3 });
  assert.deepEqual(positionAt("", 0), { line: 0, character: 0 });
});

test("the list says which bibliography was used", () => {
  assert.equal(bibliographyLabel(message, settings, null), "project: refs.bib");
  assert.equal(bibliographyLabel(message, { ...settings, bibPaths: ["/a.bib", "/b.bib"] }, null), "local: /a.bib, /b.bib");
  assert.equal(bibliographyLabel({ ...message, bib: null }, settings, null), "none");
});

test("rows keep the server's order and shorten long author lists", () => {
  const rows = rowsOf({ candidates: [
    { key: "b", title: "B", authors: "A and B and C and D", year: "2001", score: 2, why: "title words", generated: null, inBib: true, source: "refs.bib", bibEdit: null },
    { key: "a", title: "", authors: "", year: "", score: 1, why: "", generated: null, inBib: true, source: "refs.bib", bibEdit: null },
  ], insert: null, unresolved: [], bibliographyFiles: [], bibliographyEntries: 2, problems: [] });
  assert.deepEqual(rows, [
    { key: "b", title: "B", meta: "A, B, C et al., 2001", why: "title words" },
    { key: "a", title: "a", meta: "", why: "" },
  ]);
});

test("each server refusal says what to do", () => {
  const ctx = { extensionId: ID, settings, bibProblem: "" };
  const origin = failureOf(403, JSON.stringify({ error: { code: "forbidden_origin", message: "Origin not allowed" } }), ctx);
  assert.equal(origin.command, `startref serve --allow-extension ${ID}`);
  const token = failureOf(401, JSON.stringify({ error: { code: "unauthorized", message: "missing or wrong bearer token" } }), ctx);
  assert.equal(token.title, "The server wants a token");
  const bib = failureOf(404, JSON.stringify({ error: { code: "bibliography_not_found", message: "no bibliography given" } }), { ...ctx, bibProblem: "the Overleaf project has no .bib file" });
  assert.match(bib.detail, /no \.bib file.*local \.bib files/);
  const other = failureOf(500, "Internal Server Error", ctx);
  assert.match(other.detail, /Internal Server Error \[http_500\]/);
});

test("the start command carries a non-default port and a token placeholder", () => {
  assert.equal(startCommand(ID, "http://127.0.0.1:9000", "s3cret"), `startref serve --allow-extension ${ID} --port 9000 --token <your token>`);
});

test("nothing listening becomes 'not running' with the command, never an exception", async () => {
  const refused = async () => { throw new TypeError("Failed to fetch"); };
  const reply = await suggestFor(message, { settings, extensionId: ID, fetch: refused });
  assert.equal(reply.ok, false);
  assert.ok(!reply.ok && reply.code === "unreachable" && reply.command.startsWith("startref serve --allow-extension"));
  const garbage = async () => ({ status: 200, text: async () => "<html>" });
  const bad = await suggestFor(message, { settings, extensionId: ID, fetch: garbage });
  assert.ok(!bad.ok && bad.code === "protocol");
});
