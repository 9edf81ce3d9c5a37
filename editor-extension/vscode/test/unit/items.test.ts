import { test } from "node:test";
import assert from "node:assert/strict";
import { completionEntries, FROM_LIBRARY, NOT_IN_BIBLIOGRAPHY, pickItems, shortAuthors } from "../../src/items";
import { parseSuggestResponse, ProtocolError, buildSuggestRequest } from "../../src/protocol";
import { errorFromBody } from "../../src/client";

const ANSWER = {
  candidates: [
    { key: "he2016deep", title: "Deep Residual Learning for Image Recognition", authors: "He, Zhang, Ren, Sun", year: "2016", score: 0.83, why: "title matches 'residual'", generated: "Deep Residual Learning, He" },
    { key: "vaswani2017", title: "Attention Is All You Need", authors: "Vaswani, Shazeer", year: 2017, score: 0.5, why: "cited 2 times", generated: null },
  ],
  insert: { start: 10, end: 10, text: "\\citep{he2016deep}" },
  unresolved: ["Identity Mappings in Deep Residual Networks, He"],
  bibliography: { files: ["/abs/refs.bib"], entries: 83, problems: [{ file: "refs.bib", line: 4, message: "missing }" }] },
};

test("the issue's example answer parses", () => {
  const r = parseSuggestResponse(ANSWER);
  assert.equal(r.candidates.length, 2);
  assert.equal(r.candidates[1].year, "2017");
  assert.deepEqual(r.insert, { start: 10, end: 10, text: "\\citep{he2016deep}" });
  assert.deepEqual(r.bibliographyFiles, ["/abs/refs.bib"]);
  assert.deepEqual(r.problems, ["refs.bib:4: missing }"]);
});

test("answers that break the contract are rejected", () => {
  assert.throws(() => parseSuggestResponse({}), ProtocolError);
  assert.throws(() => parseSuggestResponse({ candidates: [{ title: "no key" }] }), ProtocolError);
  assert.throws(() => parseSuggestResponse({ candidates: [], insert: { start: 5, end: 2, text: "" } }), ProtocolError);
  assert.equal(parseSuggestResponse({ candidates: [], insert: null }).insert, null);
});

test("QuickPick: best first, then a separator and non-insertable unresolved items", () => {
  const items = pickItems(parseSuggestResponse(ANSWER));
  assert.deepEqual(items.map((i) => i.key), ["he2016deep", "vaswani2017", null, null]);
  assert.equal(items[0].label, "Deep Residual Learning for Image Recognition");
  assert.match(items[0].description, /He, Zhang, Ren et al\., 2016 · he2016deep/);
  assert.equal(items[0].detail, "title matches 'residual'");
  assert.equal(items[2].separator, true);
  assert.equal(items[2].label, NOT_IN_BIBLIOGRAPHY);
  assert.equal(items[3].description, NOT_IN_BIBLIOGRAPHY);
  assert.match(items[3].label, /Identity Mappings/);
});

test("completion keeps the server order and lets title-word prefixes through", () => {
  const r = parseSuggestResponse(ANSWER);
  const plain = completionEntries(r, "");
  assert.deepEqual(plain.map((e) => [e.label, e.sortText, e.filterText]), [["he2016deep", "0", "he2016deep"], ["vaswani2017", "1", "vaswani2017"]]);
  const byTitleWord = completionEntries(r, "Resid");
  assert.equal(byTitleWord[0].filterText, "Resid"); // matches a title word: kept whatever the key
  assert.equal(byTitleWord[1].filterText, "vaswani2017"); // no match: the editor filters it out
  assert.deepEqual(completionEntries(r, "", ["he2016deep"]).map((e) => e.label), ["vaswani2017"]);
});

test("shortAuthors keeps three names", () => {
  assert.equal(shortAuthors("A and B"), "A, B");
  assert.equal(shortAuthors("A, B, C, D"), "A, B, C et al.");
  assert.equal(shortAuthors(""), "");
});

test("request body carries the contract's names and omits empty optionals", () => {
  assert.deepEqual(buildSuggestRequest({ text: "t", position: { line: 1, character: 2 }, k: 5 }), { text: "t", position: { line: 1, character: 2 }, k: 5 });
  assert.deepEqual(buildSuggestRequest({ text: "t", position: { line: 0, character: 0 }, k: 3, path: "/p.tex", command: "citep" }), { text: "t", position: { line: 0, character: 0 }, k: 3, path: "/p.tex", command: "citep" });
});

test("server errors become messages with the code; non-JSON bodies are kept", () => {
  const e = errorFromBody(404, JSON.stringify({ error: { code: "bibliography_not_found", message: "no .bib found for /x/main.tex" } }));
  assert.equal(e.code, "bibliography_not_found");
  assert.equal(e.status, 404);
  assert.equal(e.message, "startref: no .bib found for /x/main.tex [bibliography_not_found]");
  assert.match(errorFromBody(401, "{}").message, /startref\.token/);
  assert.equal(errorFromBody(502, "Bad Gateway").message, "startref: Bad Gateway");
});

test("QuickPick: a library entry is marked and carries the .bib edit that adds it", () => {
  const bibEdit = { file: "/paper/refs.bib", start: 120, end: 120, line: 7, character: 0, text: "\n@article{band1993batse,\n}\n", key: "band1993batse" };
  const answer = {
    ...ANSWER,
    candidates: [
      { key: "band1993batse", title: "BATSE Observations of Gamma-Ray Burst Spectra", authors: "Band, Matteson", year: "1993", score: 0.6, why: "author Band is named next to the cursor", generated: null, in_bib: false, source: "zotero:/home/me/Zotero/zotero.sqlite", bib_edit: bibEdit },
      { ...ANSWER.candidates[0], in_bib: true, source: "/paper/refs.bib", bib_edit: null },
    ],
    bib_edit: bibEdit,
  };
  const response = parseSuggestResponse(answer);
  assert.equal(response.candidates[0].inBib, false);
  assert.equal(response.candidates[0].source, "zotero:/home/me/Zotero/zotero.sqlite");
  const items = pickItems(response);
  assert.match(items[0].label, /^\$\(library\) BATSE/);
  assert.equal(items[0].detail, `${FROM_LIBRARY} refs.bib · author Band is named next to the cursor`);
  assert.deepEqual(items[0].bibEdit, { file: "/paper/refs.bib", line: 7, character: 0, text: bibEdit.text, key: "band1993batse" });
  assert.equal(items[1].label, "Deep Residual Learning for Image Recognition");
  assert.equal(items[1].bibEdit, null);
  assert.equal(parseSuggestResponse(ANSWER).candidates[0].inBib, true); // an older server: everything is in the .bib
  assert.throws(() => parseSuggestResponse({ candidates: [{ key: "k", bib_edit: { file: 3 } }] }), ProtocolError);
  const completion = completionEntries(response, "");
  assert.match(completion[0].detail, /from your library/);
});
