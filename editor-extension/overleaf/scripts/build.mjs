// Builds the unpacked extension into dist/ (esbuild, one IIFE per part) and, with --tests, the tests into out/.
//   node scripts/build.mjs            -> dist/{manifest.json, options.html, page.js, content.js, worker.js, options.js}
//   node scripts/build.mjs --tests    -> the same, plus out/test/**.test.js (node) and out/standin/editor.js (browser)
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const withTests = process.argv.includes("--tests");

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
for (const file of ["manifest.json", "options.html"]) copyFileSync(join(root, "static", file), join(dist, file));

const browser = { bundle: true, format: "iife", target: "chrome111", logLevel: "warning", legalComments: "none" };
await build({
  ...browser,
  entryPoints: {
    page: join(root, "src/page/main.ts"),
    content: join(root, "src/content/content.ts"),
    worker: join(root, "src/background/worker.ts"),
    options: join(root, "src/options/options.ts"),
  },
  outdir: dist,
});

if (withTests) {
  const out = join(root, "out");
  rmSync(out, { recursive: true, force: true });
  const tests = [];
  for (const kind of ["unit", "browser"]) {
    for (const name of readdirSync(join(root, "test", kind))) {
      if (name.endsWith(".test.ts")) tests.push(join(root, "test", kind, name));
    }
  }
  await build({
    bundle: true, platform: "node", format: "cjs", target: "node20", logLevel: "warning", sourcemap: "inline",
    packages: "external", entryPoints: tests, outbase: root, outdir: out,
  });
  await build({ ...browser, entryPoints: { editor: join(root, "test/standin/editor.ts") }, outdir: join(out, "standin") });
  // the same stand-in on @codemirror/view 6.38 (before `cmTile`: its DOM handle is `cmView`), for that fallback
  await build({
    ...browser, entryPoints: { "editor-6.38": join(root, "test/standin/editor.ts") }, outdir: join(out, "standin"),
    alias: { "@codemirror/view": "codemirror-view-6-38" },
  });
}
