/**
 * Inside-cite detection, mirroring the server's `latex/` logic closely enough for the editor's own needs:
 * deciding whether completion should run, which part of the key the user has typed (the range a completion
 * replaces), and building an edit locally when the server's edit does not name the chosen key.
 *
 * Offsets here are JavaScript string indices (UTF-16 code units), the editor's native unit.
 */

/** Cite commands understood as "a cite" (natbib, biblatex, plain LaTeX). Configuration, not logic. */
export const CITE_COMMANDS: readonly string[] = [
  "cite", "citep", "citet", "citealp", "citealt", "citeauthor", "citeyear", "citeyearpar", "citenum",
  "Cite", "Citep", "Citet", "Citealp", "Citealt", "Citeauthor",
  "parencite", "Parencite", "textcite", "Textcite", "autocite", "Autocite", "footcite", "Footcite",
  "smartcite", "Smartcite", "supercite", "fullcite", "footfullcite", "nocite", "citetitle", "citeurl",
];

const CITE_SET = new Set(CITE_COMMANDS);

export interface CiteContext {
  /** The command name without backslash or star, e.g. "citep". */
  command: string;
  /** Offset just after the opening brace. */
  braceStart: number;
  /** Offset of the closing brace, or null when the user has not typed it yet. */
  braceEnd: number | null;
  /** Offset where the key under the cursor starts (after `{`, `,` and spaces). */
  keyStart: number;
  /** What the user typed of the current key, from keyStart to the cursor. */
  prefix: string;
  /** Complete keys already in the braces, other than the one being typed. */
  existingKeys: string[];
}

/** Longest span scanned backwards for an open brace; a cite's key list is never this long. */
const MAX_SCAN = 2000;

/**
 * If `offset` lies inside the key braces of a cite command (`\citep[p.~3]{a, b|}`), describe it; else null.
 * Optional arguments in brackets between the command and the brace are allowed, as is a star.
 */
export function citeContextAt(text: string, offset: number): CiteContext | null {
  if (offset < 0 || offset > text.length) return null;
  let open = -1;
  const lowest = Math.max(0, offset - MAX_SCAN);
  for (let i = offset - 1; i >= lowest; i--) {
    const ch = text[i];
    if (ch === "{") {
      open = i;
      break;
    }
    if (ch === "}" || ch === "\\" || ch === "\n" && i > 0 && text[i - 1] === "\n") return null;
  }
  if (open < 0) return null;
  const command = commandBefore(text, open);
  if (command === null) return null;
  let close: number | null = null;
  for (let j = offset; j < text.length && j < offset + MAX_SCAN; j++) {
    const ch = text[j];
    if (ch === "}") {
      close = j;
      break;
    }
    if (ch === "{" || ch === "\\") break;
  }
  const before = text.slice(open + 1, offset);
  const lastComma = before.lastIndexOf(",");
  let keyStart = open + 1 + (lastComma + 1);
  while (keyStart < offset && /\s/.test(text[keyStart])) keyStart++;
  const prefix = text.slice(keyStart, offset);
  const inside = text.slice(open + 1, close ?? offset);
  const existingKeys = splitKeys(inside).filter((k) => k !== prefix || prefix === "");
  return { command, braceStart: open + 1, braceEnd: close, keyStart, prefix, existingKeys };
}

function splitKeys(inside: string): string[] {
  return inside.split(",").map((k) => k.trim()).filter((k) => k !== "");
}

/** The cite command whose key brace opens at `brace`, skipping `[...]` options and a star; else null. */
function commandBefore(text: string, brace: number): string | null {
  let i = brace - 1;
  while (i >= 0 && /\s/.test(text[i])) i--;
  while (i >= 0 && text[i] === "]") {
    let depth = 0;
    for (; i >= 0; i--) {
      if (text[i] === "]") depth++;
      else if (text[i] === "[" && --depth === 0) break;
    }
    if (i < 0) return null;
    i--;
    while (i >= 0 && /\s/.test(text[i])) i--;
  }
  if (i >= 0 && text[i] === "*") i--;
  const end = i + 1;
  while (i >= 0 && /[A-Za-z]/.test(text[i])) i--;
  if (i < 0 || text[i] !== "\\") return null;
  const name = text.slice(i + 1, end);
  return CITE_SET.has(name) ? name : null;
}

/** The most used cite command in `text` (the document's style); `fallback` when there is none. */
export function dominantCiteCommand(text: string, fallback = "cite"): string {
  const counts = new Map<string, number>();
  const pattern = /\\([A-Za-z]+)\*?\s*(?:\[[^\]]*\]\s*){0,2}\{/g;
  for (const match of text.matchAll(pattern)) {
    if (CITE_SET.has(match[1]) && match[1] !== "nocite") {
      counts.set(match[1], (counts.get(match[1]) ?? 0) + 1);
    }
  }
  let best = fallback;
  let bestCount = 0;
  for (const [name, count] of counts) {
    if (count > bestCount) {
      best = name;
      bestCount = count;
    }
  }
  return best;
}
