/**
 * The hotkey as data: parsing what the user typed in the options ("Ctrl-Alt-R"), matching a keydown, and the
 * list of Overleaf's and the browser's own shortcuts it must not take over.
 *
 * Why match on `KeyboardEvent.code` for letters and digits: with Alt held, macOS (Option) and Windows (AltGr =
 * Ctrl+Alt) turn the letter into another character (`®`, `‰`), so `event.key` would never be "r".
 */

export interface Hotkey {
  /** Lower-case letter/digit or a named key as KeyboardEvent.key spells it ("F8", "Enter", "."). */
  key: string;
  ctrl: boolean;
  alt: boolean;
  shift: boolean;
  meta: boolean;
}

/** Collides with none of the shortcuts in OVERLEAF_SHORTCUTS (checked by a unit test). */
export const DEFAULT_HOTKEY = "Ctrl-Alt-R";

export class HotkeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HotkeyError";
  }
}

const MODIFIERS: Record<string, keyof Omit<Hotkey, "key"> | "mod"> = {
  ctrl: "ctrl", control: "ctrl", alt: "alt", option: "alt", opt: "alt", shift: "shift",
  meta: "meta", cmd: "meta", command: "meta", super: "meta", mod: "mod",
};

const NAMED_KEYS = new Set([
  "enter", "space", "tab", "backspace", "delete", "insert", "home", "end", "pageup", "pagedown",
  "arrowup", "arrowdown", "arrowleft", "arrowright", "escape",
]);

/**
 * "Ctrl-Alt-R", "ctrl+alt+r", "Mod-Shift-K" (Mod = Cmd on macOS, Ctrl elsewhere) -> Hotkey.
 * A hotkey needs Ctrl, Alt or Meta (a bare letter would be typed text) and must not be Escape.
 */
export function parseHotkey(text: string, isMac = false): Hotkey {
  const parts = text.trim().split(/\s*[-+]\s*(?=.)/).filter((p) => p !== "");
  if (parts.length === 0) throw new HotkeyError("the hotkey is empty");
  const hotkey: Hotkey = { key: "", ctrl: false, alt: false, shift: false, meta: false };
  for (const part of parts.slice(0, -1)) {
    const modifier = MODIFIERS[part.toLowerCase()];
    if (!modifier) throw new HotkeyError(`"${part}" in "${text}" is not a modifier (Ctrl, Alt, Shift, Meta/Cmd, Mod)`);
    if (modifier === "mod") hotkey[isMac ? "meta" : "ctrl"] = true;
    else hotkey[modifier] = true;
  }
  const last = parts[parts.length - 1];
  if (/^[a-z0-9]$/i.test(last)) hotkey.key = last.toLowerCase();
  else if (/^f([1-9]|1[0-2])$/i.test(last)) hotkey.key = last.toUpperCase();
  else if (NAMED_KEYS.has(last.toLowerCase())) hotkey.key = last.toLowerCase();
  else if (/^[.,;/\\[\]'`=-]$/.test(last)) hotkey.key = last;
  else throw new HotkeyError(`"${last}" in "${text}" is not a key startref can bind`);
  if (hotkey.key === "escape") throw new HotkeyError("Escape closes the list; it cannot open it");
  if (!hotkey.ctrl && !hotkey.alt && !hotkey.meta && !/^F\d+$/.test(hotkey.key)) {
    throw new HotkeyError(`"${text}" needs Ctrl, Alt or Meta: without one, the key would be typed into the document`);
  }
  return hotkey;
}

/** Canonical spelling, e.g. "Ctrl-Alt-R" (what the options page shows and stores). */
export function formatHotkey(hotkey: Hotkey): string {
  const parts: string[] = [];
  if (hotkey.ctrl) parts.push("Ctrl");
  if (hotkey.alt) parts.push("Alt");
  if (hotkey.shift) parts.push("Shift");
  if (hotkey.meta) parts.push("Meta");
  const key = hotkey.key.length === 1 ? hotkey.key.toUpperCase() : hotkey.key[0].toUpperCase() + hotkey.key.slice(1);
  parts.push(key);
  return parts.join("-");
}

/** The fields of a KeyboardEvent the matcher reads (so tests and the page pass plain objects). */
export interface KeyLike {
  key: string;
  code?: string;
  ctrlKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
  metaKey: boolean;
}

function keyOf(event: KeyLike): string {
  const code = event.code ?? "";
  if (/^Key[A-Z]$/.test(code)) return code.slice(3).toLowerCase();
  if (/^Digit[0-9]$/.test(code)) return code.slice(5);
  if (event.key === " ") return "space";
  return event.key.length === 1 ? event.key.toLowerCase() : event.key.toLowerCase().replace(/^f(\d+)$/, "F$1");
}

/** True when `event` is exactly `hotkey` (no extra modifier held). */
export function matchesHotkey(hotkey: Hotkey, event: KeyLike): boolean {
  return (
    event.ctrlKey === hotkey.ctrl &&
    event.altKey === hotkey.alt &&
    event.shiftKey === hotkey.shift &&
    event.metaKey === hotkey.meta &&
    keyOf(event) === hotkey.key
  );
}

/**
 * Shortcuts checked against the default (Overleaf's hotkeys dialog, its source editor's keymap `shortcuts.ts`,
 * CodeMirror's default/search keymaps Overleaf loads, and Chromium's own). "Mod" is Cmd on macOS, Ctrl elsewhere.
 */
export const RESERVED_SHORTCUTS: ReadonlyArray<{ keys: string; what: string }> = [
  { keys: "Mod-F", what: "Overleaf: find and replace" },
  { keys: "Mod-H", what: "CodeMirror: replace (Windows/Linux)" },
  { keys: "Mod-Enter", what: "Overleaf: compile" },
  { keys: "Mod-S", what: "Overleaf: compile (save)" },
  { keys: "Mod-Z", what: "Overleaf: undo" },
  { keys: "Mod-Y", what: "Overleaf: redo" },
  { keys: "Mod-Shift-Z", what: "Overleaf: redo" },
  { keys: "Mod-Shift-L", what: "Overleaf: go to line" },
  { keys: "Mod-/", what: "Overleaf: toggle comment" },
  { keys: "Mod-Shift-/", what: "Overleaf: toggle comment" },
  { keys: "Mod-D", what: "Overleaf: delete line" },
  { keys: "Mod-Shift-D", what: "Overleaf: duplicate selection" },
  { keys: "Mod-A", what: "select all" },
  { keys: "Ctrl-U", what: "Overleaf: upper case" },
  { keys: "Ctrl-Shift-U", what: "Overleaf: lower case" },
  { keys: "Mod-B", what: "Overleaf: bold" },
  { keys: "Mod-I", what: "Overleaf: italic" },
  { keys: "Ctrl-Space", what: "Overleaf: autocomplete / search references" },
  { keys: "Mod-J", what: "Overleaf: toggle review panel" },
  { keys: "Mod-Shift-A", what: "Overleaf: toggle track changes" },
  { keys: "Mod-Shift-C", what: "Overleaf: add comment" },
  { keys: "Mod-Alt-ArrowUp", what: "Overleaf: add cursor above" },
  { keys: "Mod-Alt-ArrowDown", what: "Overleaf: add cursor below" },
  { keys: "Ctrl-Alt-ArrowLeft", what: "Overleaf: select previous occurrence" },
  { keys: "Ctrl-Alt-ArrowRight", what: "Overleaf: select next occurrence" },
  { keys: "Mod-G", what: "CodeMirror: find next" },
  { keys: "Mod-Shift-G", what: "CodeMirror: find previous" },
  { keys: "Mod-Alt-G", what: "CodeMirror: go to line" },
  { keys: "Mod-Shift-K", what: "CodeMirror: delete line" },
  { keys: "Mod-Shift-\\", what: "CodeMirror: go to matching bracket" },
  { keys: "Mod-[", what: "CodeMirror: indent less" },
  { keys: "Mod-]", what: "CodeMirror: indent more" },
  { keys: "Mod-Alt-\\", what: "CodeMirror: indent selection" },
  { keys: "Ctrl-M", what: "CodeMirror: toggle Tab focus mode" },
  { keys: "Alt-ArrowUp", what: "CodeMirror: move line up" },
  { keys: "Alt-ArrowDown", what: "CodeMirror: move line down" },
  { keys: "Mod-R", what: "Chromium: reload" },
  { keys: "Mod-Shift-R", what: "Chromium: hard reload" },
  { keys: "Mod-T", what: "Chromium: new tab" },
  { keys: "Mod-W", what: "Chromium: close tab" },
  { keys: "Mod-L", what: "Chromium: address bar" },
  { keys: "Mod-P", what: "Chromium: print" },
  { keys: "Mod-K", what: "Chromium: search" },
  { keys: "Mod-E", what: "Chromium: search" },
  { keys: "Mod-N", what: "Chromium: new window" },
  { keys: "Mod-Shift-N", what: "Chromium: incognito window" },
  { keys: "Mod-Shift-T", what: "Chromium: reopen tab" },
  { keys: "Mod-Shift-B", what: "Chromium: bookmarks bar" },
  { keys: "Mod-Shift-I", what: "Chromium: developer tools" },
  { keys: "Mod-Shift-J", what: "Chromium: console" },
  { keys: "Mod-Shift-Delete", what: "Chromium: clear browsing data" },
];

function sameCombination(a: Hotkey, b: Hotkey): boolean {
  return a.key === b.key && a.ctrl === b.ctrl && a.alt === b.alt && a.shift === b.shift && a.meta === b.meta;
}

/** What `hotkey` would take over on this platform (empty when nothing). */
export function conflictsOf(hotkey: Hotkey, isMac = false): string[] {
  const found: string[] = [];
  for (const reserved of RESERVED_SHORTCUTS) {
    let other: Hotkey;
    try {
      other = parseHotkey(reserved.keys, isMac);
    } catch {
      continue; // e.g. a bare key the parser refuses as a hotkey: it cannot equal a valid hotkey anyway
    }
    if (sameCombination(hotkey, other)) found.push(`${reserved.keys.replace("Mod", isMac ? "Cmd" : "Ctrl")} (${reserved.what})`);
  }
  return found;
}
