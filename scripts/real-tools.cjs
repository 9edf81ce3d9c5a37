// The rule of scripts/real-tools.sh for node's test runner: a real-editor or real-browser test whose
// dependencies are missing is skipped (with the reason) on a developer's machine and FAILS under CI=true
// (also 1/yes) or STARTREF_REAL_TOOLS=require. Plain CommonJS with no dependencies, so every editor integration
// (VS Code, Overleaf/Chromium, ...) can load it by path at run time:
//
//   const { skipUnlessPresent } = require(join(REPO_ROOT, "scripts", "real-tools.cjs"));
//   const skip = skipUnlessPresent("real VS Code", [existsSync(CHROMIUM) ? "" : `${CHROMIUM} (apt-get install -y chromium)`]);
//   test("...", { skip }, async () => { ... });
"use strict";

/** Whether a missing real-editor dependency must fail the run (CI) instead of skipping the test. */
function realToolsRequired(env = process.env) {
  return env.STARTREF_REAL_TOOLS === "require" || /^(1|true|yes)$/i.test(env.CI ?? "");
}

/**
 * node:test's `skip` option for a real-editor test: false when `missing` (descriptions, "" for present ones) is
 * empty; the reason to skip otherwise; under CI it throws, so the test file fails with that reason instead.
 */
function skipUnlessPresent(what, missing, env = process.env) {
  const gone = missing.filter((m) => m !== "" && m != null);
  if (gone.length === 0) return false;
  const reason = `${what} unavailable, missing: ${gone.join("; ")}`;
  if (realToolsRequired(env)) {
    throw new Error(`${reason} (CI=${env.CI ?? ""} STARTREF_REAL_TOOLS=${env.STARTREF_REAL_TOOLS ?? ""}: ` +
      "a missing real-editor dependency is a failure, not a skip)");
  }
  return reason;
}

module.exports = { realToolsRequired, skipUnlessPresent };
