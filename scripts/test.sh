#!/usr/bin/env bash
# Runs every check: lint, typecheck, unit tests, and the e2e suites against a real Keycloak, on
# SQLite and on PostgreSQL. Installs what is missing and starts (and afterwards stops) the local
# Keycloak and a throw-away PostgreSQL itself. Ends with one line: `N passed, N failed` (both
# databases counted).
#
# The e2e suites run twice, once per database, as two jest processes in parallel (each one suite
# at a time), sharing the one Keycloak and Redis. Suites that pause Keycloak, change realm-wide
# settings or stop the shared Redis
# (EXCLUSIVE below) would disturb the other process, so they run afterwards, once per database,
# one process at a time.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/install.sh || exit 1
# The gateway suites run real nginx and Caddy (Debian packages), installed here when missing.
bash scripts/gateways.sh || exit 1
bash scripts/postgres.sh install || exit 1

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
postgres_dir=""
cleanup() {
  if [[ -n "${KEYSMITH_TEST_REDIS_DIR:-}" ]]; then
    REDIS_DIR="$KEYSMITH_TEST_REDIS_DIR" bash scripts/redis.sh stop
    rm -rf "$KEYSMITH_TEST_REDIS_DIR"
    KEYSMITH_TEST_REDIS_DIR=''
  fi
  if [[ "$started_keycloak" == 1 && "${KEYSMITH_KEEP_KEYCLOAK:-}" != "true" ]]; then bash scripts/keycloak.sh stop; fi
  started_keycloak=0
  if [[ -n "$postgres_dir" ]]; then bash scripts/postgres.sh stop "$postgres_dir"; fi
  postgres_dir=""
}
trap cleanup EXIT
postgres_env="$(bash scripts/postgres.sh start)" || exit 1
postgres_dir="$(sed -n 's/^KEYSMITH_POSTGRES_DIR=//p' <<<"$postgres_env")"
postgres_url="$(sed -n 's/^DATABASE_URL=//p' <<<"$postgres_env")"
# Suites that need a PostgreSQL server whatever the run's database (the SQLite-to-PostgreSQL copy).
export KEYSMITH_TEST_POSTGRES_URL="$postgres_url"

status=0
echo "== lint" && npx eslint . || status=1
echo "== typecheck" && npx tsc -p tsconfig.json --noEmit || status=1

mkdir -p test-results
rm -f test-results/*.json test-results/secret-scan.jsonl
export NODE_OPTIONS=--experimental-vm-modules
echo "== unit tests"
npx jest --selectProjects unit --json --outputFile=test-results/unit.json || status=1
# One build for every suite that runs Keysmith as a child process (two jest processes must not race to build).
npm run build >/dev/null || status=1
EXCLUSIVE='test/(foundation|chaos|jobs-secret-rotation|replicas)\.e2e-spec\.ts$'
e2e=(npx jest --selectProjects e2e --runInBand --testTimeout=120000)
echo "== e2e tests (real Keycloak), SQLite and PostgreSQL in parallel"
env -u DATABASE_URL "${e2e[@]}" --testPathIgnorePatterns "$EXCLUSIVE" --json --outputFile=test-results/e2e-sqlite.json >test-results/e2e-sqlite.log 2>&1 &
sqlite_pid=$!
DATABASE_URL="$postgres_url" "${e2e[@]}" --testPathIgnorePatterns "$EXCLUSIVE" --json --outputFile=test-results/e2e-postgres.json >test-results/e2e-postgres.log 2>&1 &
postgres_pid=$!
wait "$sqlite_pid" || status=1
wait "$postgres_pid" || status=1
for engine in sqlite postgres; do echo "-- e2e on $engine" && cat "test-results/e2e-$engine.log"; done
echo "== e2e tests that pause Keycloak or change realm settings, SQLite then PostgreSQL"
env -u DATABASE_URL "${e2e[@]}" --json --outputFile=test-results/e2e-exclusive-sqlite.json -- "$EXCLUSIVE" || status=1
DATABASE_URL="$postgres_url" "${e2e[@]}" --json --outputFile=test-results/e2e-exclusive-postgres.json -- "$EXCLUSIVE" || status=1

summary="$(node scripts/test-summary.mjs test-results/unit.json test-results/e2e-{sqlite,postgres,exclusive-sqlite,exclusive-postgres}.json)" || status=1
cleanup
# The closing line CI reads comes last.
echo "$summary"
exit "$status"
