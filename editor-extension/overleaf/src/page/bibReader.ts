/**
 * The page's side of reading the project's .bib files: same-origin requests with the user's session cookie.
 * The logic (which docs, caching by ETag, joining) is in core/projectBib.ts; the zip fallback in core/zip.ts.
 */
import type { ProjectBib } from "../core/messages";
import { bibDocsFromRootFolder, bibPathsFromEntities, fingerprint, joinBibFiles, ProjectBibCache } from "../core/projectBib";
import type { DocAnswer } from "../core/projectBib";
import { extractTextFiles } from "../core/zip";
import { overleafStore } from "./editorHooks";

const cache = new ProjectBibCache();
/** The zip's .bib per file set, as the download in flight or done: the page's prefetch and a hotkey pressed while
 * it is still downloading share one download (the endpoint is rate-limited). */
let zipCache: { key: string; bib: Promise<ProjectBib> } | null = null;

/** Counters the browser test reads (window.__startrefBibStats) to prove the cache by version works. */
export function bibStats(): { fetched: number; notModified: number } {
  return { fetched: cache.fetched, notModified: cache.notModified };
}

async function fetchDoc(url: string, etag: string | null): Promise<DocAnswer> {
  const headers: Record<string, string> = { Accept: "text/plain" };
  if (etag) headers["If-None-Match"] = etag;
  // no-store: the ETag round trip is ours, so the browser's cache cannot answer 200 from a stale copy
  const res = await fetch(url, { credentials: "same-origin", headers, cache: "no-store" });
  return { status: res.status, etag: res.headers.get("ETag"), text: res.status === 200 ? await res.text() : "" };
}

async function inflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Without the store: the entities list says which .bib docs exist, the project zip gives their text. */
async function readViaZip(projectId: string): Promise<ProjectBib | null> {
  const res = await fetch(`/project/${projectId}/entities`, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (res.status !== 200) throw new Error(`Overleaf answered HTTP ${res.status} to /project/${projectId}/entities`);
  const paths = bibPathsFromEntities(await res.json());
  if (paths.length === 0) return null;
  const key = paths.join("|");
  if (zipCache && zipCache.key === key) return zipCache.bib; // the zip endpoint is rate-limited: once per file set
  const download = downloadBibs(projectId, paths);
  const entry = { key, bib: download };
  zipCache = entry;
  download.catch(() => {
    if (zipCache === entry) zipCache = null; // a failed download is tried again next time
  });
  return download;
}

async function downloadBibs(projectId: string, paths: string[]): Promise<ProjectBib> {
  const zipRes = await fetch(`/Project/${projectId}/download/zip`, { credentials: "same-origin" });
  if (zipRes.status !== 200) throw new Error(`Overleaf answered HTTP ${zipRes.status} to the project download`);
  const wanted = new Set(paths);
  const files = await extractTextFiles(new Uint8Array(await zipRes.arrayBuffer()), (name) => wanted.has(name), inflateRaw);
  return { text: joinBibFiles(files), files: files.map((f) => f.path), version: fingerprint(files.map((f) => f.text).join("\n")) };
}

/** The project's .bib files, or null when it has none; throws an Error that says which request failed. */
export async function readProjectBib(projectId: string): Promise<ProjectBib | null> {
  const project = overleafStore()?.get("project") as { rootFolder?: unknown } | undefined;
  if (project && project.rootFolder) {
    const docs = bibDocsFromRootFolder(project.rootFolder);
    return docs.length === 0 ? null : cache.load(projectId, docs, fetchDoc);
  }
  return readViaZip(projectId);
}
