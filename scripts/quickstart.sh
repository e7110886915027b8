#!/usr/bin/env bash
# One command to run Keysmith locally: installs dependencies, downloads and starts Keycloak on
# 127.0.0.1 (seeded with demo realms), builds Keysmith and runs it on SQLite under ./data/.
# Stop with Ctrl-C; `bash scripts/keycloak.sh stop` stops Keycloak too.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/install.sh
bash scripts/keycloak.sh start
npm run build --silent
set -a
# shellcheck disable=SC1091
. .cache/keycloak/keysmith.env
set +a
export PORT="${PORT:-8080}"
echo
echo "Keysmith: http://127.0.0.1:${PORT}   Swagger UI: http://127.0.0.1:${PORT}/docs   Keycloak: ${KEYCLOAK_URL}"
echo "Token for the API: see README, Authentication. First API key: README, Bootstrap (bin/keysmith apply examples/bootstrap; bin/keysmith keys create ...)"
echo
exec node dist/main.js
