#!/usr/bin/env bash
# Everything the Overleaf extension is tested with, for the repo's `make test`:
#   npm ci (package-lock.json) -> tsc --noEmit -> esbuild -> node's test runner over the unit tests and the
#   real-browser test (Debian's Chromium + the unpacked extension + the stand-in CodeMirror 6 page + the real
#   `startref serve` from STARTREF_PYTHON, default ../../.venv/bin/python, with STARTREF_SERVER_ARGS, default
#   --no-generator).
# Without /usr/bin/chromium the browser test is reported as skipped, except under CI=true or
# STARTREF_REAL_TOOLS=require, where it FAILS (scripts/real-tools.cjs: a real-browser test must not pass by not running).
set -euo pipefail
cd "$(dirname "$0")/.."
export STARTREF_PYTHON="${STARTREF_PYTHON:-../../.venv/bin/python}"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

npm ci --silent
npx tsc -p . --noEmit
node scripts/build.mjs --tests
node --test out/test/unit/ out/test/browser/
