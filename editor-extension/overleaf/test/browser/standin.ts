/**
 * The stand-in Overleaf web server for the browser test: serves a real paper from ../shared/bench as an Overleaf
 * project, with the endpoints the extension's bibliography reader uses, behind a session cookie (as Overleaf's
 * are), with ETags and 304s (as Express answers them):
 *   GET /project/:id                          the editor page (test/standin/editor.ts), sets the session cookie
 *   GET /Project/:id/doc/:docId/download      a doc's text (DocumentUpdaterController.getDoc)
 *   GET /project/:id/entities                 {project_id, entities: [{path, type}]}
 *   GET /Project/:id/download/zip             the project as a zip
 * Every request is counted per path kind so the test can prove what the extension asked for.
 */
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { join, relative } from "node:path";
import { zipFiles } from "../../scripts/zip-writer.mjs";

export interface StandinDoc {
  id: string;
  path: string;
  text: string;
}

export interface Standin {
  url: string;
  projectId: string;
  docs: StandinDoc[];
  /** Requests per kind: "doc-200", "doc-304", "doc-403", "entities", "zip", "page". */
  counts: Map<string, number>;
  /** Milliseconds the project download waits before answering (a slow zip, as a big project's is). */
  zipDelayMs: number;
  /** The doc the editor opens (the paper's main .tex). */
  mainDoc: StandinDoc;
  close(): Promise<void>;
  /** Replace a doc's text (as a collaborator's edit would). */
  setText(docId: string, text: string): void;
}

function objectId(seed: string): string {
  return createHash("sha1").update(seed).digest("hex").slice(0, 24);
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listFiles(full));
    else if (/\.(tex|bib)$/i.test(name)) out.push(full);
  }
  return out;
}

interface FolderNode { _id: string; name: string; docs: Array<{ _id: string; name: string }>; folders: FolderNode[]; fileRefs: unknown[] }

function rootFolderOf(docs: StandinDoc[]): FolderNode[] {
  const root: FolderNode = { _id: objectId("root"), name: "rootFolder", docs: [], folders: [], fileRefs: [] };
  for (const doc of docs) {
    const parts = doc.path.split("/");
    let folder = root;
    for (const part of parts.slice(0, -1)) {
      let sub = folder.folders.find((f) => f.name === part);
      if (!sub) {
        sub = { _id: objectId(`folder:${part}`), name: part, docs: [], folders: [], fileRefs: [] };
        folder.folders.push(sub);
      }
      folder = sub;
    }
    folder.docs.push({ _id: doc.id, name: parts[parts.length - 1] });
  }
  return [root];
}

/** A deflated zip of `files` (what Overleaf's project download sends). */
export function zipOf(files: Array<{ path: string; text: string }>): Buffer {
  return zipFiles(files.map((f) => ({ name: f.path, data: Buffer.from(f.text, "utf8") })));
}

const escapeScript = (json: string): string => json.replace(/</g, "\\u003c");

/**
 * Serve `paperTexDir` (a bench paper's folder; its .tex and .bib files) as an Overleaf project on a free loopback
 * port; the editor opens `pickMain`'s doc, by default the first with `\\begin{document}`.
 */
export async function startStandin(paperTexDir: string, editorBundle: string, pickMain?: (docs: StandinDoc[]) => StandinDoc | undefined): Promise<Standin> {
  const docs: StandinDoc[] = listFiles(paperTexDir).map((full) => {
    const path = relative(paperTexDir, full).split("\\").join("/");
    return { id: objectId(`doc:${path}`), path, text: readFileSync(full, "utf8") };
  });
  const main = pickMain?.(docs) ?? docs.find((d) => /\\begin\{document\}/.test(d.text)) ?? docs.find((d) => d.path.endsWith(".tex"));
  if (!main) throw new Error(`${paperTexDir}: no .tex file`);
  const projectId = objectId(`project:${paperTexDir}`);
  const session = randomBytes(12).toString("hex");
  // cookies ignore the port: each stand-in on localhost needs its own cookie name, or a second one logs the first out
  const cookie = `overleaf.sid.${projectId.slice(0, 8)}`;
  const counts = new Map<string, number>();
  const count = (kind: string): void => void counts.set(kind, (counts.get(kind) ?? 0) + 1);
  const slow = { zipDelayMs: 0 };
  const bundle = readFileSync(editorBundle, "utf8");
  const oldBundle = readFileSync(editorBundle.replace(/editor\.js$/, "editor-6.38.js"), "utf8");

  const page = (view: string | null): string => {
    const boot = { projectId, docId: main.id, docName: main.path.split("/").pop(), text: main.text, rootFolder: rootFolderOf(docs) };
    return `<!doctype html><html><head><meta charset="utf-8"><title>${main.path} - Overleaf (stand-in)</title>
<style>body{margin:0;font-family:system-ui,sans-serif}header{padding:6px 12px;background:#1e2530;color:#fff;font-size:13px}
#editor{height:calc(100vh - 30px)}.cm-editor{height:100%}.cm-scroller{font:13px/1.5 ui-monospace,Menlo,Consolas,monospace}</style></head>
<body><header>Overleaf stand-in · ${main.path}</header><div id="editor"></div>
<script type="application/json" id="standin-boot">${escapeScript(JSON.stringify(boot))}</script>
<script src="/standin/editor.js${view ? `?view=${encodeURIComponent(view)}` : ""}"></script></body></html>`;
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const send = (status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-cache", ...headers });
      res.end(body);
    };
    const authed = (req.headers.cookie ?? "").split(/;\s*/).includes(`${cookie}=${session}`);
    let m: RegExpExecArray | null;
    if (url.pathname === `/project/${projectId}`) {
      count("page");
      send(200, "text/html; charset=utf-8", page(url.searchParams.get("view")), { "Set-Cookie": `${cookie}=${session}; Path=/; HttpOnly; SameSite=Lax` });
    } else if (url.pathname === "/standin/editor.js") {
      // ?view=6.38 (forwarded by the page) serves the editor built on @codemirror/view 6.38
      send(200, "text/javascript", url.searchParams.get("view") === "6.38" ? oldBundle : bundle);
    } else if ((m = /^\/Project\/([0-9a-f]{24})\/doc\/([0-9a-f]{24})\/download$/.exec(url.pathname))) {
      const doc = docs.find((d) => d.id === m![2]);
      if (!authed) return count("doc-403"), send(403, "text/plain", "Forbidden");
      if (m[1] !== projectId || !doc) return count("doc-404"), send(404, "text/plain", "Not Found");
      const etag = `W/"${createHash("sha1").update(doc.text).digest("hex").slice(0, 16)}"`;
      if (req.headers["if-none-match"] === etag) {
        count("doc-304");
        res.writeHead(304, { ETag: etag });
        res.end();
        return;
      }
      count("doc-200");
      send(200, "text/plain; charset=utf-8", doc.text, { ETag: etag, "Content-Disposition": `attachment; filename="${doc.path.split("/").pop()}"` });
    } else if (url.pathname === `/project/${projectId}/entities`) {
      if (!authed) return count("entities-403"), send(403, "text/plain", "Forbidden");
      count("entities");
      send(200, "application/json", JSON.stringify({ project_id: projectId, entities: docs.map((d) => ({ path: `/${d.path}`, type: "doc" })) }));
    } else if (url.pathname === `/Project/${projectId}/download/zip`) {
      if (!authed) return count("zip-403"), send(403, "text/plain", "Forbidden");
      count("zip");
      const zip = zipOf(docs);
      if (slow.zipDelayMs > 0) setTimeout(() => send(200, "application/zip", zip), slow.zipDelayMs);
      else send(200, "application/zip", zip);
    } else {
      send(404, "text/plain", "Not Found");
    }
  };

  const server: Server = createServer(handler);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://localhost:${port}/project/${projectId}`,
    projectId,
    docs,
    counts,
    get zipDelayMs() {
      return slow.zipDelayMs;
    },
    set zipDelayMs(ms: number) {
      slow.zipDelayMs = ms;
    },
    mainDoc: main,
    setText: (docId, text) => {
      const doc = docs.find((d) => d.id === docId);
      if (doc) doc.text = text;
    },
    close: () => new Promise<void>((done) => { server.closeAllConnections(); server.close(() => done()); }),
  };
}
