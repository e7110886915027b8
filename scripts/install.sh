#!/usr/bin/env bash
# Installs Keysmith's dependencies when they are missing or stale (always with CI=true).
# sqlite3 is compiled from source here (a few minutes): its install script is approved in
# package.json's allowScripts, and node-gyp uses the headers of the installed Node.js.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
stamp="node_modules/.keysmith-lock-hash"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ "${CI:-}" == "true" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "[install] npm ci (compiles sqlite3; takes a few minutes on a new machine)" >&2
  npm ci --no-audit --no-fund
  node -e "require('sqlite3')" || { echo "[install] sqlite3 native module did not build" >&2; exit 1; }
  echo "$want" >"$stamp"
fi
