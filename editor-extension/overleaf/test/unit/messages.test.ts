import { test } from "node:test";
import assert from "node:assert/strict";
import { CHANNEL, envelope, openEnvelope, parseWorkerMessage } from "../../src/core/messages";
import type { Trigger } from "../../src/core/messages";

const trigger: Trigger = {
  type: "trigger", id: 3, text: "As shown by~", cursor: 12, caret: { left: 10, top: 20, bottom: 36 }, t0: 1234.5,
  bib: { text: "@article{a, title={A}}", files: ["refs.bib"], version: "abc" }, bibProblem: "", docName: "main.tex",
};

test("a message survives the envelope in its direction only", () => {
  assert.deepEqual(openEnvelope(envelope(trigger, "to-content"), "to-content"), trigger);
  assert.equal(openEnvelope(envelope(trigger, "to-content"), "to-page"), null);
  const insert = { type: "insert" as const, id: 3, key: "li2009", serverInsert: { start: 12, end: 12, text: "\\citep{li2009}" }, topKey: "li2009", command: "" };
  assert.deepEqual(openEnvelope(envelope(insert, "to-page"), "to-page"), insert);
});

test("the warm-up message carries the project's bibliography or why there is none", () => {
  const prefetch = { type: "prefetch" as const, bib: trigger.bib, bibProblem: "" };
  assert.deepEqual(openEnvelope(envelope(prefetch, "to-content"), "to-content"), prefetch);
  assert.deepEqual(openEnvelope(envelope({ ...prefetch, bib: null, bibProblem: "no .bib" }, "to-content"), "to-content"), { ...prefetch, bib: null, bibProblem: "no .bib" });
  assert.equal(openEnvelope({ channel: CHANNEL, direction: "to-content", message: { type: "prefetch", bib: null } }, "to-content"), null);
});

test("other scripts' and malformed messages are refused", () => {
  assert.equal(openEnvelope({ channel: "someone-else", direction: "to-content", message: trigger }, "to-content"), null);
  assert.equal(openEnvelope("hello", "to-content"), null);
  assert.equal(openEnvelope({ channel: CHANNEL, direction: "to-content", message: { ...trigger, cursor: 99 } }, "to-content"), null);
  assert.equal(openEnvelope({ channel: CHANNEL, direction: "to-content", message: { ...trigger, bib: { text: 1 } } }, "to-content"), null);
  assert.equal(openEnvelope({ channel: CHANNEL, direction: "to-page", message: { type: "insert", id: 1, key: "", serverInsert: null, topKey: null, command: "" } }, "to-page"), null);
  assert.equal(openEnvelope({ channel: CHANNEL, direction: "to-page", message: { type: "config", config: { hotkey: 5 } } }, "to-page"), null);
});

test("the service worker accepts a suggest or a health message, nothing else", () => {
  const suggest = { kind: "suggest", text: "x", cursor: 1, bib: null, bibProblem: "" };
  assert.deepEqual(parseWorkerMessage(suggest), suggest);
  assert.deepEqual(parseWorkerMessage({ kind: "health" }), { kind: "health" });
  assert.equal(parseWorkerMessage({ ...suggest, cursor: 2 }), null);
  assert.equal(parseWorkerMessage({ kind: "fetch", url: "http://evil.example" }), null);
});
