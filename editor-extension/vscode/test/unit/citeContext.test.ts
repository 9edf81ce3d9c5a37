import { test } from "node:test";
import assert from "node:assert/strict";
import { citeContextAt, dominantCiteCommand } from "../../src/citeContext";

/** Split a fixture at its `|` cursor marker. */
function at(fixture: string): [string, number] {
  const offset = fixture.indexOf("|");
  assert.ok(offset >= 0, "fixture needs a | cursor");
  return [fixture.slice(0, offset) + fixture.slice(offset + 1), offset];
}

test("cursor right after \\cite{ is inside with an empty prefix", () => {
  const [text, cursor] = at("as shown by \\cite{|} earlier");
  const ctx = citeContextAt(text, cursor);
  assert.ok(ctx);
  assert.equal(ctx.command, "cite");
  assert.equal(ctx.prefix, "");
  assert.equal(ctx.keyStart, cursor);
  assert.equal(ctx.braceEnd, cursor);
  assert.deepEqual(ctx.existingKeys, []);
});

test("typed prefix after a comma and space, other keys listed", () => {
  const [text, cursor] = at("\\citep{he2016deep, vas|, kingma2014}");
  const ctx = citeContextAt(text, cursor);
  assert.ok(ctx);
  assert.equal(ctx.command, "citep");
  assert.equal(ctx.prefix, "vas");
  assert.equal(text.slice(ctx.keyStart, cursor), "vas");
  assert.deepEqual(ctx.existingKeys, ["he2016deep", "kingma2014"]);
});

test("optional arguments and a star between command and brace", () => {
  const [text, cursor] = at("\\citep*[see][p.~3]{a,|}");
  const ctx = citeContextAt(text, cursor);
  assert.ok(ctx);
  assert.equal(ctx.command, "citep");
  assert.deepEqual(ctx.existingKeys, ["a"]);
});

test("unclosed brace while typing still counts", () => {
  const [text, cursor] = at("text \\parencite{smi|\n");
  const ctx = citeContextAt(text, cursor);
  assert.ok(ctx);
  assert.equal(ctx.command, "parencite");
  assert.equal(ctx.braceEnd, null);
  assert.equal(ctx.prefix, "smi");
});

test("not inside: other commands, after the closing brace, plain text", () => {
  for (const fixture of [
    "\\textbf{bo|ld}",
    "\\cite{a}| and more",
    "plain | text",
    "\\label{sec:|intro}",
    "\\excite{a|}",
    "\\cite{a} \\emph{|x}",
  ]) {
    const [text, cursor] = at(fixture);
    assert.equal(citeContextAt(text, cursor), null, fixture);
  }
});

test("out-of-range offsets are not inside", () => {
  assert.equal(citeContextAt("\\cite{a}", -1), null);
  assert.equal(citeContextAt("\\cite{a}", 99), null);
});

test("dominant command is the most used cite command", () => {
  assert.equal(dominantCiteCommand("\\citep{a} \\citet{b} \\citep[p.~2]{c} \\nocite{d} \\nocite{e} \\nocite{f}"), "citep");
  assert.equal(dominantCiteCommand("no cites here"), "cite");
  assert.equal(dominantCiteCommand("no cites here", "autocite"), "autocite");
});
