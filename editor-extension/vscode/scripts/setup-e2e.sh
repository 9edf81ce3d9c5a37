#!/usr/bin/env bash
# Install a real VS Code (code-server 4.100.3, the last line that runs on node 20) and playwright-core for the
# headless test, into a cache folder outside the checkout (it survives fresh clones on the same machine).
#
# Why by hand instead of `npm install code-server`: its postinstall fetches a ripgrep binary from GitHub (not
# reachable here) and refuses to run as root. So: npm ci without scripts, Debian's rg in ripgrep's place, then
# `npm rebuild` compiles the native modules (node-pty, kerberos, @parcel/watcher, argon2...) against /usr/include/node.
# Needs (Debian): chromium ripgrep libkrb5-dev build-essential python3. Prints the folder on the last line.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dest="${STARTREF_CODE_SERVER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/startref-vscode-e2e}"
stamp="$dest/.installed-$(sha256sum "$here/e2e/package-lock.json" | cut -c1-16)"
if [ -f "$stamp" ]; then echo "$dest"; exit 0; fi
for tool in rg g++ make python3; do
  command -v "$tool" >/dev/null || { echo "setup-e2e: missing $tool (apt-get install -y ripgrep build-essential python3 libkrb5-dev)" >&2; exit 1; }
done
[ -f /usr/include/gssapi/gssapi.h ] || { echo "setup-e2e: missing libkrb5-dev (apt-get install -y libkrb5-dev)" >&2; exit 1; }
rm -rf "$dest" && mkdir -p "$dest"
cp "$here/e2e/package.json" "$here/e2e/package-lock.json" "$dest/"
cd "$dest"
export npm_config_yes=true npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
npm ci --ignore-scripts >/dev/null
npm rebuild argon2 >/dev/null
vscode="$dest/node_modules/code-server/lib/vscode"
(cd "$vscode" && npm install --omit=dev --ignore-scripts >/dev/null)
mkdir -p "$vscode/node_modules/@vscode/ripgrep/bin"
cp "$(command -v rg)" "$vscode/node_modules/@vscode/ripgrep/bin/rg"
(cd "$vscode" && npm rebuild >/dev/null)
# What code-server's own postinstall.sh does after installing.
ln -sfn node_modules "$vscode/node_modules.asar"
(cd "$vscode/bin/remote-cli" && ln -sfn code-linux.sh code-server)
(cd "$vscode/bin/helpers" && ln -sfn browser-linux.sh browser.sh)
(cd "$vscode/extensions" && npm install --omit=dev >/dev/null)
touch "$stamp"
echo "$dest"
