import { test } from "node:test";
import assert from "node:assert/strict";
import { applyEdit, codePointToUtf16, EditError, editForChoice, localEdit, toUtf16Edit, utf16ToCodePoint } from "../../src/edits";

test("code points and UTF-16 agree on ASCII and BMP text", () => {
  const text = "Schrödinger équation";
  for (let i = 0; i <= text.length; i++) {
    assert.equal(codePointToUtf16(text, i), i);
    assert.equal(utf16ToCodePoint(text, i), i);
  }
});

test("astral characters take two UTF-16 units but one code point", () => {
  const text = "a𝔸b😀c"; // 𝔸 and 😀 are outside the BMP
  assert.equal(text.length, 7);
  assert.equal(codePointToUtf16(text, 2), 3); // after 𝔸
  assert.equal(codePointToUtf16(text, 4), 6); // after 😀
  assert.equal(codePointToUtf16(text, 5), 7);
  assert.equal(utf16ToCodePoint(text, 6), 4);
  assert.throws(() => codePointToUtf16(text, 6), EditError);
  assert.throws(() => codePointToUtf16(text, -1), EditError);
});

test("a server edit after an emoji lands where the server meant", () => {
  const text = "Results 😀 improve.";
  // The server counts code points: cursor before the final full stop is code point 17.
  const cp = [...text].indexOf(".");
  const edit = toUtf16Edit(text, { start: cp, end: cp, text: " \\cite{k}" });
  assert.equal(applyEdit(text, edit), "Results 😀 improve \\cite{k}.");
});

test("applyEdit replaces a range and rejects edits that do not fit", () => {
  assert.equal(applyEdit("abcdef", { start: 2, end: 4, text: "XY" }), "abXYef");
  assert.throws(() => applyEdit("abc", { start: 2, end: 5, text: "" }), EditError);
  assert.throws(() => applyEdit("abc", { start: 2, end: 1, text: "" }), EditError);
});

test("choosing the top candidate applies the server edit unchanged", () => {
  const text = "deep nets work.";
  const edit = editForChoice({
    text, cursor: 14, serverEdit: { start: 14, end: 14, text: "~\\citep{he2016deep}" }, topKey: "he2016deep", chosenKey: "he2016deep",
  });
  assert.equal(applyEdit(text, edit), "deep nets work~\\citep{he2016deep}.");
});

test("choosing another candidate swaps only the key", () => {
  const text = "\\citep{a, } more";
  const edit = editForChoice({
    text, cursor: 10, serverEdit: { start: 10, end: 10, text: "he2016deep" }, topKey: "he2016deep", chosenKey: "b2020",
  });
  assert.equal(applyEdit(text, edit), "\\citep{a, b2020} more");
  const wrapped = editForChoice({
    text: "x", cursor: 1, serverEdit: { start: 1, end: 1, text: "\\citet{deep}" }, topKey: "deep", chosenKey: "deeper",
  });
  assert.equal(wrapped.text, "\\citet{deeper}"); // the command's letters are not touched
});

test("without a server edit the local edit follows the server's rules", () => {
  const cases: Array<[string, string]> = [
    ["see \\cite{|}", "see \\cite{k}"],
    ["see \\cite{a, |}", "see \\cite{a, k}"],
    ["see \\cite{a|}", "see \\cite{k}"], // a partly typed key is replaced, as the server does
    ["see \\cite{a, Ro|}", "see \\cite{a, k}"],
    ["see \\citet{a,|}", "see \\citet{a,k}"],
    ["as \\citep{x} said |.", "as \\citep{x} said \\citep{k}."],
  ];
  for (const [fixture, expected] of cases) {
    const cursor = fixture.indexOf("|");
    const text = fixture.replace("|", "");
    const edit = editForChoice({ text, cursor, serverEdit: null, topKey: null, chosenKey: "k" });
    assert.equal(applyEdit(text, edit), expected, fixture);
  }
  assert.equal(localEdit("x ", 2, "k", "autocite").text, "\\autocite{k}");
});
