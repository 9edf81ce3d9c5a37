import { test } from "node:test";
import assert from "node:assert/strict";
import { listAction } from "../../src/core/listKeys";

test("arrows move and wrap, Enter and Tab choose, Escape cancels", () => {
  assert.deepEqual(listAction("ArrowDown", 0, 3), { kind: "move", index: 1 });
  assert.deepEqual(listAction("ArrowDown", 2, 3), { kind: "move", index: 0 });
  assert.deepEqual(listAction("ArrowUp", 0, 3), { kind: "move", index: 2 });
  assert.deepEqual(listAction("End", 0, 3), { kind: "move", index: 2 });
  assert.deepEqual(listAction("Home", 2, 3), { kind: "move", index: 0 });
  assert.deepEqual(listAction("Enter", 1, 3), { kind: "choose", index: 1 });
  assert.deepEqual(listAction("Tab", 2, 3), { kind: "choose", index: 2 });
  assert.deepEqual(listAction("Escape", 1, 3), { kind: "cancel" });
});

test("digits pick a row; typing on closes the list and lets the key through", () => {
  assert.deepEqual(listAction("2", 0, 3), { kind: "choose", index: 1 });
  assert.deepEqual(listAction("7", 0, 3), { kind: "close-and-pass" });
  assert.deepEqual(listAction("a", 0, 3), { kind: "close-and-pass" });
  assert.deepEqual(listAction("Backspace", 0, 3), { kind: "close-and-pass" });
  assert.deepEqual(listAction("2", 0, 3, { ctrl: true, alt: false, meta: false }), { kind: "close-and-pass" });
  assert.deepEqual(listAction("Shift", 0, 3), { kind: "ignore" });
});

test("an empty list (an error, or still loading) never chooses", () => {
  assert.deepEqual(listAction("Enter", 0, 0), { kind: "cancel" });
  assert.deepEqual(listAction("Escape", 0, 0), { kind: "cancel" });
  assert.deepEqual(listAction("ArrowDown", 0, 0), { kind: "ignore" });
  assert.deepEqual(listAction("x", 0, 0), { kind: "close-and-pass" });
});
