import { test } from "node:test";
import assert from "node:assert/strict";
import { inflateRawSync } from "node:zlib";
import { extractTextFiles, ZipError } from "../../src/core/zip";
import { zipOf } from "../browser/standin";

const inflate = async (data: Uint8Array) => new Uint8Array(inflateRawSync(data));

test("the .bib files come out of a deflated project zip, others are skipped", async () => {
  const zip = zipOf([{ path: "main.tex", text: "\\cite{a}" }, { path: "refs/main.bib", text: "@article{a, title={Ä}}" }]);
  const files = await extractTextFiles(new Uint8Array(zip), (name) => name.endsWith(".bib"), inflate);
  assert.deepEqual(files, [{ path: "refs/main.bib", text: "@article{a, title={Ä}}" }]);
});

test("what is not a zip is refused clearly", async () => {
  await assert.rejects(extractTextFiles(new TextEncoder().encode("<html>login</html>"), () => true, inflate), ZipError);
});
