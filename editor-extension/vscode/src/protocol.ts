/**
 * The wire contract of `POST /v1/suggest` (issue 3), typed once so every other module reads plain data.
 *
 * Why a validating parser instead of a cast: the server is a separate process (maybe another version);
 * a malformed answer must become a clear message in the editor, never an exception deep in the UI code.
 */

export interface Position {
  /** Zero-based line. */
  line: number;
  /** Zero-based column in UTF-16 code units, as in LSP and VS Code. */
  character: number;
}

export interface SuggestRequest {
  text: string;
  position: Position;
  path?: string;
  k: number;
  /** Cite command override (e.g. "citep"); omitted when the document's own style should be used. */
  command?: string;
}

export interface Candidate {
  key: string;
  title: string;
  authors: string;
  year: string;
  score: number;
  why: string;
  generated: string | null;
  /** False for an entry of the user's library that the paper's .bib lacks (choosing it applies `bibEdit`). */
  inBib: boolean;
  /** The .bib file, or `bib:PATH` / `zotero:PATH` of the library the entry comes from. */
  source: string;
  bibEdit: BibEdit | null;
}

/** Appends a library entry to the paper's .bib: insert `text` at `line`/`character` (LSP, UTF-16) of `file`. */
export interface BibEdit {
  file: string;
  line: number;
  character: number;
  text: string;
  key: string;
}

/** An edit in Unicode code points (Python `str` indices) into the request's `text`. */
export interface InsertEdit {
  start: number;
  end: number;
  text: string;
}

export interface SuggestResponse {
  candidates: Candidate[];
  insert: InsertEdit | null;
  unresolved: string[];
  bibliographyFiles: string[];
  bibliographyEntries: number | null;
  problems: string[];
}

/** Raised when the server's answer does not follow the contract. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : String(value);
}

function parseCandidate(raw: unknown, index: number): Candidate {
  if (!isRecord(raw) || typeof raw.key !== "string" || raw.key === "") {
    throw new ProtocolError(`candidate ${index} has no key`);
  }
  return {
    key: raw.key,
    title: str(raw.title),
    authors: str(raw.authors),
    year: str(raw.year),
    score: typeof raw.score === "number" ? raw.score : 0,
    why: str(raw.why),
    generated: typeof raw.generated === "string" ? raw.generated : null,
    inBib: raw.in_bib !== false,
    source: str(raw.source),
    bibEdit: parseBibEdit(raw.bib_edit),
  };
}

function parseBibEdit(raw: unknown): BibEdit | null {
  if (raw === null || raw === undefined) return null;
  if (
    !isRecord(raw) ||
    typeof raw.file !== "string" ||
    typeof raw.text !== "string" ||
    !Number.isInteger(raw.line) ||
    !Number.isInteger(raw.character)
  ) {
    throw new ProtocolError("bib_edit must be {file, line, character, text, key}");
  }
  return { file: raw.file, line: raw.line as number, character: raw.character as number, text: raw.text, key: str(raw.key) };
}

function parseInsert(raw: unknown): InsertEdit | null {
  if (raw === null || raw === undefined) return null;
  if (
    !isRecord(raw) ||
    !Number.isInteger(raw.start) ||
    !Number.isInteger(raw.end) ||
    typeof raw.text !== "string" ||
    (raw.start as number) < 0 ||
    (raw.end as number) < (raw.start as number)
  ) {
    throw new ProtocolError("insert must be {start, end, text} with 0 <= start <= end");
  }
  return { start: raw.start as number, end: raw.end as number, text: raw.text };
}

function problemText(raw: unknown): string {
  if (typeof raw === "string") return raw;
  if (isRecord(raw)) {
    const where = [raw.file, raw.line].filter((p) => p !== undefined && p !== null).join(":");
    const message = str(raw.message ?? raw.error ?? JSON.stringify(raw));
    return where ? `${where}: ${message}` : message;
  }
  return String(raw);
}

/** Validate a decoded JSON body of a 200 answer from `/v1/suggest`. */
export function parseSuggestResponse(body: unknown): SuggestResponse {
  if (!isRecord(body) || !Array.isArray(body.candidates)) {
    throw new ProtocolError("the answer has no candidates list");
  }
  const bibliography = isRecord(body.bibliography) ? body.bibliography : {};
  return {
    candidates: body.candidates.map(parseCandidate),
    insert: parseInsert(body.insert),
    unresolved: Array.isArray(body.unresolved) ? body.unresolved.map(str).filter((s) => s !== "") : [],
    bibliographyFiles: Array.isArray(bibliography.files) ? bibliography.files.map(str) : [],
    bibliographyEntries: typeof bibliography.entries === "number" ? bibliography.entries : null,
    problems: Array.isArray(bibliography.problems) ? bibliography.problems.map(problemText) : [],
  };
}

/** Build the request body; `command` is sent only when the user overrides the document's style. */
export function buildSuggestRequest(args: {
  text: string;
  position: Position;
  path?: string;
  k: number;
  command?: string;
}): SuggestRequest {
  const request: SuggestRequest = { text: args.text, position: args.position, k: args.k };
  if (args.path) request.path = args.path;
  if (args.command) request.command = args.command;
  return request;
}
