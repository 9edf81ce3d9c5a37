import { test } from "node:test";
import assert from "node:assert/strict";
import { bibDocsFromRootFolder, bibPathsFromEntities, docDownloadUrl, joinBibFiles, ProjectBibCache, projectIdFromPath } from "../../src/core/projectBib";
import type { DocAnswer } from "../../src/core/projectBib";

const rootFolder = [{
  _id: "r", name: "rootFolder", fileRefs: [{ _id: "f", name: "fig.pdf" }],
  docs: [{ _id: "d1", name: "main.tex" }, { _id: "d2", name: "refs.bib" }],
  folders: [{ _id: "s", name: "bib", docs: [{ _id: "d3", name: "extra.BIB" }], folders: [{ _id: "t", name: "old", docs: [{ _id: "d4", name: "a.bib" }], folders: [] }] }],
}];

test("the .bib docs of Overleaf's file tree, with their paths", () => {
  assert.deepEqual(bibDocsFromRootFolder(rootFolder), [
    { id: "d3", path: "bib/extra.BIB" }, { id: "d4", path: "bib/old/a.bib" }, { id: "d2", path: "refs.bib" },
  ]);
  assert.deepEqual(bibDocsFromRootFolder(undefined), []);
  assert.deepEqual(bibDocsFromRootFolder([{ docs: "nonsense" }]), []);
});

test("the entities endpoint gives .bib doc paths (files such as uploaded .bib are not docs)", () => {
  assert.deepEqual(bibPathsFromEntities({ project_id: "p", entities: [
    { path: "/main.tex", type: "doc" }, { path: "/refs.bib", type: "doc" }, { path: "/up.bib", type: "file" }, { path: "/b/x.bib", type: "doc" },
  ] }), ["b/x.bib", "refs.bib"]);
  assert.deepEqual(bibPathsFromEntities({ error: "nope" }), []);
});

test("project id from the editor URL", () => {
  assert.equal(projectIdFromPath("/project/5f2b1c3d4e5f6a7b8c9d0e1f"), "5f2b1c3d4e5f6a7b8c9d0e1f");
  assert.equal(projectIdFromPath("/project/5f2b1c3d4e5f6a7b8c9d0e1f/detacher"), "5f2b1c3d4e5f6a7b8c9d0e1f");
  assert.equal(projectIdFromPath("/project"), null);
  assert.equal(docDownloadUrl("p", "d"), "/Project/p/doc/d/download");
});

test("docs are cached by ETag: a 304 keeps the text, a change is fetched, the version follows", async () => {
  const texts: Record<string, string> = { d2: "@article{a, title={A}}", d3: "@book{b, title={B}}" };
  const seen: Array<[string, string | null]> = [];
  const fetchDoc = async (url: string, etag: string | null): Promise<DocAnswer> => {
    const id = url.split("/")[4];
    seen.push([id, etag]);
    const current = `"${texts[id].length}-${texts[id]}"`;
    return etag === current ? { status: 304, etag: current, text: "" } : { status: 200, etag: current, text: texts[id] };
  };
  const docs = [{ id: "d2", path: "refs.bib" }, { id: "d3", path: "bib/extra.bib" }];
  const cache = new ProjectBibCache();
  const first = await cache.load("p", docs, fetchDoc);
  assert.deepEqual(first.files, ["refs.bib", "bib/extra.bib"]);
  assert.equal(first.text, joinBibFiles([{ path: "refs.bib", text: texts.d2 }, { path: "bib/extra.bib", text: texts.d3 }]));
  const second = await cache.load("p", docs, fetchDoc);
  assert.equal(second.version, first.version);
  assert.equal(cache.notModified, 2);
  texts.d3 = "@book{b, title={B2}}";
  const third = await cache.load("p", docs, fetchDoc);
  assert.notEqual(third.version, first.version);
  assert.match(third.text, /B2/);
  assert.equal(cache.fetched, 3);
  assert.deepEqual(seen.slice(2, 4).map(([, etag]) => etag !== null), [true, true]);
});

test("a failed download names the file and the request", async () => {
  const cache = new ProjectBibCache();
  await assert.rejects(cache.load("p", [{ id: "d9", path: "refs.bib" }], async () => ({ status: 403, etag: null, text: "" })),
    /refs\.bib: Overleaf answered HTTP 403 to \/Project\/p\/doc\/d9\/download/);
});
