/**
 * What a key does while the list is open, as a pure function of (key, highlighted row, row count), so the
 * content script only renders. Escape never inserts; Enter and Tab insert the highlighted key; typing anything
 * else closes the list and lets the keystroke go to the editor (the user has moved on).
 */

export type ListAction =
  | { kind: "move"; index: number }
  | { kind: "choose"; index: number }
  | { kind: "cancel" }
  | { kind: "close-and-pass" }
  | { kind: "ignore" };

export function listAction(key: string, index: number, count: number, modifiers: { ctrl: boolean; alt: boolean; meta: boolean } = { ctrl: false, alt: false, meta: false }): ListAction {
  if (key === "Escape") return { kind: "cancel" };
  if (count === 0) return key === "Enter" ? { kind: "cancel" } : key.length === 1 || key === "Backspace" ? { kind: "close-and-pass" } : { kind: "ignore" };
  switch (key) {
    case "ArrowDown":
      return { kind: "move", index: (index + 1) % count };
    case "ArrowUp":
      return { kind: "move", index: (index - 1 + count) % count };
    case "PageDown":
    case "End":
      return { kind: "move", index: count - 1 };
    case "PageUp":
    case "Home":
      return { kind: "move", index: 0 };
    case "Enter":
    case "Tab":
      return { kind: "choose", index };
    case "Shift":
    case "Control":
    case "Alt":
    case "Meta":
      return { kind: "ignore" };
    default:
      if (!modifiers.ctrl && !modifiers.meta && !modifiers.alt && /^[1-9]$/.test(key) && Number(key) <= count) {
        return { kind: "choose", index: Number(key) - 1 };
      }
      return key.length === 1 || key === "Backspace" || key === "Delete" ? { kind: "close-and-pass" } : { kind: "ignore" };
  }
}
