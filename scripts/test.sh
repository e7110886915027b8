#!/usr/bin/env bash
# Runs every check: lint, typecheck, unit tests, and the e2e suites against a real Keycloak.
# Installs what is missing and starts (and afterwards stops) the local Keycloak itself.
# Ends with one line: `N passed, N failed`.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/install.sh || exit 1
# The gateway suites run real nginx and Caddy (Debian packages), installed here when missing.
bash scripts/gateways.sh || exit 1

# One Redis for the run (the replica suites share it, and stop and restart it to test the fallback).
export KEYSMITH_TEST_REDIS_DIR="$(mktemp -d)"
REDIS_DIR="$KEYSMITH_TEST_REDIS_DIR" bash scripts/redis.sh start || exit 1

started_keycloak=0
if ! bash scripts/keycloak.sh status; then
  bash scripts/keycloak.sh start || exit 1
  started_keycloak=1
else
  bash scripts/keycloak.sh seed || exit 1
fi
cleanup() {
  if [[ -n "${KEYSMITH_TEST_REDIS_DIR:-}" ]]; then
    REDIS_DIR="$KEYSMITH_TEST_REDIS_DIR" bash scripts/redis.sh stop
    rm -rf "$KEYSMITH_TEST_REDIS_DIR"
    KEYSMITH_TEST_REDIS_DIR=''
  fi
  if [[ "$started_keycloak" == 1 && "${KEYSMITH_KEEP_KEYCLOAK:-}" != "true" ]]; then bash scripts/keycloak.sh stop; fi
  started_keycloak=0
}
trap cleanup EXIT

status=0
echo "== lint" && npx eslint . || status=1
echo "== typecheck" && npx tsc -p tsconfig.json --noEmit || status=1

mkdir -p test-results
rm -f test-results/*.json test-results/secret-scan.jsonl
export NODE_OPTIONS=--experimental-vm-modules
echo "== unit tests"
npx jest --selectProjects unit --json --outputFile=test-results/unit.json || status=1
echo "== e2e tests (real Keycloak)"
npx jest --selectProjects e2e --runInBand --testTimeout=120000 --json --outputFile=test-results/e2e.json || status=1

summary="$(node scripts/test-summary.mjs test-results/unit.json test-results/e2e.json)" || status=1
cleanup
# The closing line CI reads comes last.
echo "$summary"
exit "$status"
