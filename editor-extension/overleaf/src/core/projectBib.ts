/**
 * Reading the open Overleaf project's .bib files the way Overleaf's own web client can: same-origin requests
 * with the user's session, nothing sent anywhere but the local server.
 *
 * Overleaf internals relied on (open-source overleaf/overleaf, services/web):
 * - `window.overleaf.unstable.store.get("project").rootFolder` — the file tree the editor keeps (folders, docs
 *   with `_id` and `name`); the store is exposed "so it can be accessed by external extensions".
 * - `GET /Project/:projectId/doc/:docId/download` — a doc's current text (DocumentUpdaterController.getDoc).
 * - Fallback without the store: `GET /project/:projectId/entities` lists paths (`{path, type: "doc"|"file"}`) but
 *   no ids, so the .bib docs are then taken from `GET /Project/:projectId/download/zip` (see zip.ts).
 *
 * Cache by version: each doc is fetched with the ETag of the last answer (`If-None-Match`); a 304 keeps the
 * cached text, so pressing the hotkey again costs one tiny request per .bib and no re-parse on the server's side
 * beyond what its own cache does. This module holds the logic; the page script passes in `fetch`.
 */
import type { ProjectBib } from "./messages";

export interface BibDoc {
  id: string;
  /** Path in the project, e.g. "refs/main.bib". */
  path: string;
}

interface FolderLike {
  name?: unknown;
  docs?: unknown;
  folders?: unknown;
}

/** The .bib docs of Overleaf's `rootFolder` (an array with the root folder, or the folder itself), by path. */
export function bibDocsFromRootFolder(rootFolder: unknown): BibDoc[] {
  const found: BibDoc[] = [];
  const walk = (folder: FolderLike, prefix: string, depth: number): void => {
    if (depth > 50) return;
    for (const doc of Array.isArray(folder.docs) ? folder.docs : []) {
      const d = doc as { _id?: unknown; name?: unknown };
      if (typeof d._id === "string" && typeof d.name === "string" && /\.bib$/i.test(d.name)) {
        found.push({ id: d._id, path: prefix + d.name });
      }
    }
    for (const sub of Array.isArray(folder.folders) ? folder.folders : []) {
      const s = sub as FolderLike;
      if (typeof s.name === "string") walk(s, `${prefix}${s.name}/`, depth + 1);
    }
  };
  const root = Array.isArray(rootFolder) ? rootFolder[0] : rootFolder;
  if (root && typeof root === "object") walk(root as FolderLike, "", 0);
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The .bib doc paths of `GET /project/:id/entities` (leading "/" removed); [] when the answer is not that shape. */
export function bibPathsFromEntities(json: unknown): string[] {
  const entities = (json as { entities?: unknown } | null)?.entities;
  if (!Array.isArray(entities)) return [];
  return entities
    .filter((e): e is { path: string; type: string } => typeof e?.path === "string" && e?.type === "doc")
    .map((e) => e.path.replace(/^\/+/, ""))
    .filter((p) => /\.bib$/i.test(p))
    .sort();
}

/** The 24-hex project id of an Overleaf editor URL (`/project/<id>`), or null. */
export function projectIdFromPath(pathname: string): string | null {
  const match = /^\/project\/([0-9a-f]{24})(?:\/|$)/i.exec(pathname);
  return match ? match[1] : null;
}

export function docDownloadUrl(projectId: string, docId: string): string {
  return `/Project/${encodeURIComponent(projectId)}/doc/${encodeURIComponent(docId)}/download`;
}

/** What fetching one doc gave: 200 with text (and maybe an ETag), 304 (unchanged), or another status. */
export interface DocAnswer {
  status: number;
  etag: string | null;
  text: string;
}

export type FetchDoc = (url: string, etag: string | null) => Promise<DocAnswer>;

/** A short, stable fingerprint (FNV-1a, 32 bit) for texts that came without an ETag. */
export function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/** Joins files into one bib_text; a comment line names each file (bibtex ignores text outside entries). */
export function joinBibFiles(files: ReadonlyArray<{ path: string; text: string }>): string {
  return files.map((f) => `% startref: ${f.path}\n${f.text.endsWith("\n") ? f.text : `${f.text}\n`}`).join("\n");
}

interface Cached {
  etag: string | null;
  text: string;
}

/** Per-doc cache; one instance lives as long as the editor tab. */
export class ProjectBibCache {
  private readonly docs = new Map<string, Cached>();
  /** Requests answered 304 since the start (the browser test reads it to prove the cache works). */
  notModified = 0;
  fetched = 0;

  /**
   * Read every doc (revalidating cached ones, all at once) and join them in `docs` order; throws an Error naming
   * the file that failed. Revalidating on every press keeps a just-added entry visible at the next press.
   */
  async load(projectId: string, docs: BibDoc[], fetchDoc: FetchDoc): Promise<ProjectBib> {
    const files = await Promise.all(docs.map(async (doc) => {
      const cached = this.docs.get(doc.id) ?? null;
      const answer = await fetchDoc(docDownloadUrl(projectId, doc.id), cached?.etag ?? null);
      let entry: Cached;
      if (answer.status === 304 && cached) {
        this.notModified++;
        entry = cached;
      } else if (answer.status === 200) {
        this.fetched++;
        entry = { etag: answer.etag, text: answer.text };
        this.docs.set(doc.id, entry);
      } else {
        throw new Error(`${doc.path}: Overleaf answered HTTP ${answer.status} to ${docDownloadUrl(projectId, doc.id)}`);
      }
      return { path: doc.path, text: entry.text, version: entry.etag ?? fingerprint(entry.text) };
    }));
    return {
      text: joinBibFiles(files),
      files: files.map((f) => f.path),
      version: fingerprint(files.map((f) => `${f.path}@${f.version}`).join("|")),
    };
  }
}
