/**
 * The real-VS-Code test obeys the repo's rule (scripts/real-tools.cjs): with code-server missing it is SKIPPED
 * on a developer's machine and FAILS under CI=true, instead of passing as "skipped" in CI.
 * Runs the compiled e2e file in a child node with the prerequisites deliberately absent (it never starts VS Code).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";

const E2E = resolve(__dirname, "..", "e2e", "vscode.test.js");

function runE2e(extra: Record<string, string>): { status: number | null; output: string } {
  const env: Record<string, string | undefined> = { ...process.env, ...extra };
  delete env.NODE_TEST_CONTEXT; // run as its own top-level test run, not as a subtest of this one
  if (!("CI" in extra)) delete env.CI;
  if (!("STARTREF_REAL_TOOLS" in extra)) delete env.STARTREF_REAL_TOOLS;
  const run = spawnSync(process.execPath, ["--test", E2E], {
    env: { ...env, STARTREF_CODE_SERVER_DIR: join(__dirname, "no-such-code-server") },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

test("without CI a missing code-server skips the real-VS-Code test, naming what is missing", () => {
  const run = runE2e({});
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, /# skipped 1/);
  assert.match(run.output, /real VS Code unavailable, missing: code-server/);
});

test("under CI=true (or STARTREF_REAL_TOOLS=require) a missing code-server fails it", () => {
  const cases: Record<string, string>[] = [{ CI: "true" }, { STARTREF_REAL_TOOLS: "require" }];
  for (const extra of cases) {
    const run = runE2e(extra);
    assert.notEqual(run.status, 0, run.output);
    assert.match(run.output, /a missing real-editor dependency is a failure, not a skip/);
    assert.doesNotMatch(run.output, /# skipped 1/);
  }
});
