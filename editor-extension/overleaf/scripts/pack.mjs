// Packs dist/ into a zip: load it unpacked after unzipping, or upload it to a store.
//   npm run pack            -> startref-overleaf.zip, keeps the manifest "key" (same id as the unpacked folder)
//   npm run pack -- --store -> startref-overleaf-store.zip without "key" (the Chrome Web Store assigns its own id)
// Written to a temporary name, then renamed, so a half-written zip never exists.
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { zipFiles } from "./zip-writer.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const store = process.argv.includes("--store");
const target = join(root, store ? "startref-overleaf-store.zip" : "startref-overleaf.zip");

const walk = (dir) => readdirSync(dir).sort().flatMap((name) => {
  const full = join(dir, name);
  return statSync(full).isDirectory() ? walk(full) : [full];
});

const files = walk(dist).map((file) => {
  const name = relative(dist, file).split("\\").join("/");
  let data = readFileSync(file);
  if (store && name === "manifest.json") {
    const manifest = JSON.parse(data.toString("utf8"));
    delete manifest.key;
    data = Buffer.from(JSON.stringify(manifest, null, 2));
  }
  return { name, data };
});
writeFileSync(`${target}.tmp`, zipFiles(files));
renameSync(`${target}.tmp`, target);
console.log(`${relative(process.cwd(), target)}: ${files.length} files`);
