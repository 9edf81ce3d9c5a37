/**
 * Applying the server's `insert` edit. The server speaks Unicode code points (Python indices), the editor
 * UTF-16 code units; the two differ after any character outside the Basic Multilingual Plane (emoji, some
 * math alphanumerics), so every offset crosses this module before touching a document.
 */
import type { InsertEdit } from "./protocol";
import { citeContextAt, dominantCiteCommand } from "./citeContext";

/** A replacement in UTF-16 offsets, ready for the editor. */
export interface Utf16Edit {
  start: number;
  end: number;
  text: string;
}

/** Raised when an edit does not fit the text it is meant for. */
export class EditError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EditError";
  }
}

/** Convert a code-point offset into `text` to a UTF-16 offset. */
export function codePointToUtf16(text: string, codePoint: number): number {
  if (!Number.isInteger(codePoint) || codePoint < 0) {
    throw new EditError(`offset ${codePoint} is not a non-negative integer`);
  }
  let utf16 = 0;
  for (let cp = 0; cp < codePoint; cp++) {
    if (utf16 >= text.length) {
      throw new EditError(`offset ${codePoint} is past the end of the text (${countCodePoints(text)} code points)`);
    }
    const unit = text.charCodeAt(utf16);
    utf16 += unit >= 0xd800 && unit <= 0xdbff && utf16 + 1 < text.length ? 2 : 1;
  }
  return utf16;
}

/** Convert a UTF-16 offset into `text` to a code-point offset (the inverse of codePointToUtf16). */
export function utf16ToCodePoint(text: string, utf16: number): number {
  let cp = 0;
  for (let i = 0; i < utf16 && i < text.length; cp++) {
    const unit = text.charCodeAt(i);
    i += unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length ? 2 : 1;
  }
  return cp;
}

function countCodePoints(text: string): number {
  return utf16ToCodePoint(text, text.length);
}

/** The server's code-point edit as a UTF-16 edit on the same `text` that was sent. */
export function toUtf16Edit(text: string, edit: InsertEdit): Utf16Edit {
  const start = codePointToUtf16(text, edit.start);
  const end = codePointToUtf16(text, edit.end);
  return { start, end, text: edit.text };
}

/** Apply a UTF-16 edit to `text`. */
export function applyEdit(text: string, edit: Utf16Edit): string {
  if (edit.start < 0 || edit.end < edit.start || edit.end > text.length) {
    throw new EditError(`edit ${edit.start}..${edit.end} does not fit a text of length ${text.length}`);
  }
  return text.slice(0, edit.start) + edit.text + text.slice(edit.end);
}

/**
 * The edit that inserts `chosenKey`, derived from the server's edit for its top candidate `topKey`.
 * The server builds exactly one edit (new cite in the document's style, or `, key` / `key` inside existing
 * braces); for another pick only the key differs, so the last occurrence of the top key is swapped. When
 * the server sent no usable edit, one is built locally from the cursor's cite context.
 */
export function editForChoice(args: {
  text: string;
  cursor: number;
  serverEdit: InsertEdit | null;
  topKey: string | null;
  chosenKey: string;
  commandOverride?: string;
}): Utf16Edit {
  const { text, serverEdit, topKey, chosenKey } = args;
  if (serverEdit && topKey) {
    const at = serverEdit.text.lastIndexOf(topKey);
    if (at >= 0) {
      const replaced =
        serverEdit.text.slice(0, at) + chosenKey + serverEdit.text.slice(at + topKey.length);
      return toUtf16Edit(text, { ...serverEdit, text: replaced });
    }
  }
  return localEdit(text, args.cursor, chosenKey, args.commandOverride);
}

/**
 * Build the hotkey's insertion without the server, with the server's semantics: inside a cite's braces a
 * partly typed key (`\\cite{a, Rob|}`) is replaced by the chosen key, after `{` or `,` the key is added, after a
 * complete key and spaces `, key` is added; elsewhere a new cite in the document's command.
 */
export function localEdit(text: string, cursor: number, key: string, commandOverride?: string): Utf16Edit {
  const context = citeContextAt(text, cursor);
  if (context) {
    if (context.prefix !== "") return { start: context.keyStart, end: cursor, text: key };
    const before = text.slice(context.braceStart, cursor).trimEnd();
    const bare = before === "" || before.endsWith(",");
    return { start: cursor, end: cursor, text: bare ? key : `, ${key}` };
  }
  const command = commandOverride || dominantCiteCommand(text);
  return { start: cursor, end: cursor, text: `\\${command}{${key}}` };
}
