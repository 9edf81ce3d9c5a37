#!/usr/bin/env bash
# The one rule for tests that drive a real editor or browser (VS Code via code-server, Neovim, Emacs, Chromium):
# when something they need is missing, a developer's run SKIPS them, saying so, but CI FAILS.
#
# Why: a suite that quietly skips its real-editor tests proves nothing, and the first place that happens is a CI
# image that lost a package. "CI" is CI=true (also 1/yes, as GitHub Actions, GitLab and .ci/run set it) or
# STARTREF_REAL_TOOLS=require; the same rule is in tests/realtools.py (pytest) and scripts/real-tools.cjs (node).
#
#   real-tools.sh check WHAT REQ...      exit 0 when every REQ is present; else the rule below
#   real-tools.sh missing WHAT REASON    the rule: CI -> message, exit 1; otherwise -> message, exit 77 (skip)
#   real-tools.sh install REQ...         apt-get install the packages of missing REQs (as root); not root: CI ->
#                                        exit 1, otherwise print the command and exit 0 (the tests then skip)
#
# REQ is COMMAND:PACKAGE or /ABSOLUTE/PATH:PACKAGE (a command on PATH or a file that must exist, and the Debian
# package that provides it), e.g. chromium:chromium rg:ripgrep /usr/include/krb5.h:libkrb5-dev.
# Exit 77 is the "skipped" status of automake's test driver; callers treat 0 as run, 77 as skip, anything else
# as failure.
set -euo pipefail

SKIP=77

required() {
  case "${STARTREF_REAL_TOOLS:-}" in require) return 0 ;; esac
  case "$(printf '%s' "${CI:-}" | tr '[:upper:]' '[:lower:]')" in 1 | true | yes) return 0 ;; esac
  return 1
}

present() {  # REQ -> 0 when its command/file is there
  local what="${1%%:*}"
  if [[ "$what" == /* ]]; then [ -e "$what" ]; else command -v "$what" >/dev/null 2>&1; fi
}

missing_reqs() {  # REQ... -> the missing ones, one per line
  local req
  for req in "$@"; do present "$req" || printf '%s\n' "$req"; done
}

packages_of() {  # REQ... -> their packages, space separated, each once
  local req out=()
  for req in "$@"; do
    local pkg="${req#*:}"
    [ "$pkg" = "$req" ] && pkg="${req##*/}"
    [[ " ${out[*]-} " == *" $pkg "* ]] || out+=("$pkg")
  done
  printf '%s' "${out[*]-}"
}

fail_or_skip() {  # WHAT REASON
  if required; then
    echo "real-tools: FAIL: $1 cannot run: $2 (CI=${CI:-} STARTREF_REAL_TOOLS=${STARTREF_REAL_TOOLS:-}: a missing real-editor dependency is a failure, not a skip)" >&2
    exit 1
  fi
  echo "real-tools: SKIP: $1 cannot run here: $2 (under CI=true this is a failure)" >&2
  exit "$SKIP"
}

cmd="${1:-}"
shift || true
case "$cmd" in
  check)
    [ $# -ge 1 ] || { echo "usage: real-tools.sh check WHAT REQ..." >&2; exit 2; }
    what="$1"; shift
    mapfile -t gone < <(missing_reqs "$@")
    [ ${#gone[@]} -eq 0 ] && exit 0
    names=(); for req in "${gone[@]}"; do names+=("${req%%:*}"); done
    fail_or_skip "$what" "missing ${names[*]} (apt-get install -y $(packages_of "${gone[@]}"))"
    ;;
  missing)
    [ $# -eq 2 ] || { echo "usage: real-tools.sh missing WHAT REASON" >&2; exit 2; }
    fail_or_skip "$1" "$2"
    ;;
  install)
    mapfile -t gone < <(missing_reqs "$@")
    [ ${#gone[@]} -eq 0 ] && exit 0
    pkgs="$(packages_of "${gone[@]}")"
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq
      # shellcheck disable=SC2086  # one word per package
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null
      mapfile -t still < <(missing_reqs "$@")
      [ ${#still[@]} -eq 0 ] || { echo "real-tools: installed $pkgs but still missing: ${still[*]}" >&2; exit 1; }
    elif required; then
      echo "real-tools: FAIL: the real-editor tests need: apt-get install -y $pkgs (not root, so not installed; CI=${CI:-})" >&2
      exit 1
    else
      echo "real-tools: the real-editor tests need: sudo apt-get install -y $pkgs (they are skipped until then)" >&2
    fi
    ;;
  *)
    echo "usage: real-tools.sh check WHAT REQ... | missing WHAT REASON | install REQ..." >&2
    exit 2
    ;;
esac
