import { test } from "node:test";
import assert from "node:assert/strict";
import { editFor } from "../../src/core/insertion";
import type { Insert } from "../../src/core/messages";

const text = "Minimizers~\\citep{a}. Reads are mapped ";
const choice = (key: string, serverInsert: Insert["serverInsert"], topKey: string | null): Insert =>
  ({ type: "insert", id: 1, key, serverInsert, topKey, command: "" });

test("unchanged document: the server's edit with the chosen key swapped in", () => {
  const sent = { text, cursor: text.length };
  const edit = editFor(choice("li2018", { start: text.length, end: text.length, text: "\\citep{li2016}" }, "li2016"), sent, sent);
  assert.deepEqual(edit, { start: text.length, end: text.length, text: "\\citep{li2018}" });
});

test("the document changed while the list was open: built locally at the current cursor, in the document's style", () => {
  const sent = { text, cursor: text.length };
  const now = { text: `Intro. ${text}`, cursor: text.length + 7 };
  const edit = editFor(choice("li2018", { start: text.length, end: text.length, text: "\\citep{li2016}" }, "li2016"), sent, now);
  assert.deepEqual(edit, { start: now.cursor, end: now.cursor, text: "\\citep{li2018}" });
});

test("inside an existing cite the key joins the list", () => {
  const inside = "Seen in~\\citep{a, }.";
  const cursor = inside.indexOf("}");
  const edit = editFor(choice("b", null, null), { text: inside, cursor }, { text: inside, cursor });
  assert.deepEqual(edit, { start: cursor, end: cursor, text: "b" });
  const afterKey = "Seen in~\\citep{a|}.".replace("|", "");
  const at = afterKey.indexOf("}");
  assert.deepEqual(editFor(choice("b", null, null), { text: afterKey, cursor: at }, { text: afterKey, cursor: at }), { start: at - 1, end: at, text: "b" });
});
