import { test } from "node:test";
import assert from "node:assert/strict";
import { conflictsOf, DEFAULT_HOTKEY, formatHotkey, HotkeyError, matchesHotkey, parseHotkey, RESERVED_SHORTCUTS } from "../../src/core/hotkey";

const press = (key: string, code: string, mods: Partial<Record<"ctrlKey" | "altKey" | "shiftKey" | "metaKey", boolean>> = {}) =>
  ({ key, code, ctrlKey: false, altKey: false, shiftKey: false, metaKey: false, ...mods });

test("the default hotkey collides with none of the checked shortcuts, on Linux/Windows and on macOS", () => {
  for (const isMac of [false, true]) assert.deepEqual(conflictsOf(parseHotkey(DEFAULT_HOTKEY, isMac), isMac), []);
  assert.ok(RESERVED_SHORTCUTS.length >= 40);
});

test("a hotkey that takes over an Overleaf shortcut is named", () => {
  assert.deepEqual(conflictsOf(parseHotkey("Ctrl-Shift-C")), ["Ctrl-Shift-C (Overleaf: add comment)"]);
  assert.match(conflictsOf(parseHotkey("Cmd-Enter", true), true)[0], /compile/);
  assert.match(conflictsOf(parseHotkey("Ctrl-Space"))[0], /autocomplete/);
});

test("parse and format are inverse, in any spelling", () => {
  assert.equal(formatHotkey(parseHotkey("ctrl+alt+r")), "Ctrl-Alt-R");
  assert.equal(formatHotkey(parseHotkey(" Alt - Shift - k ")), "Alt-Shift-K");
  assert.equal(formatHotkey(parseHotkey("Mod-Shift-F8", true)), "Shift-Meta-F8");
  assert.equal(formatHotkey(parseHotkey("Mod-.")), "Ctrl-.");
  assert.equal(formatHotkey(parseHotkey("F9")), "F9");
});

test("what cannot be a hotkey is refused with a reason", () => {
  assert.throws(() => parseHotkey(""), HotkeyError);
  assert.throws(() => parseHotkey("r"), /needs Ctrl, Alt or Meta/);
  assert.throws(() => parseHotkey("Shift-r"), /needs Ctrl, Alt or Meta/);
  assert.throws(() => parseHotkey("Hyper-r"), /not a modifier/);
  assert.throws(() => parseHotkey("Ctrl-Escape"), /Escape/);
  assert.throws(() => parseHotkey("Ctrl-Ä"), /not a key/);
});

test("the key is matched by its physical code, so AltGr/Option characters still match", () => {
  const hotkey = parseHotkey("Ctrl-Alt-R");
  assert.ok(matchesHotkey(hotkey, press("r", "KeyR", { ctrlKey: true, altKey: true })));
  assert.ok(matchesHotkey(hotkey, press("®", "KeyR", { ctrlKey: true, altKey: true })));
  assert.ok(!matchesHotkey(hotkey, press("r", "KeyR", { ctrlKey: true, altKey: true, shiftKey: true })), "an extra modifier is another shortcut");
  assert.ok(!matchesHotkey(hotkey, press("r", "KeyR", { ctrlKey: true })));
  assert.ok(!matchesHotkey(hotkey, press("t", "KeyT", { ctrlKey: true, altKey: true })));
  assert.ok(matchesHotkey(parseHotkey("Ctrl-F8"), press("F8", "F8", { ctrlKey: true })));
  assert.ok(matchesHotkey(parseHotkey("Alt-2"), press("™", "Digit2", { altKey: true })));
});
