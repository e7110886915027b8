#!/usr/bin/env bash
# A throw-away PostgreSQL server for tests, benchmarks and trying Keysmith on PostgreSQL.
#
#   bash scripts/postgres.sh install       installs Debian's `postgresql` when it is missing
#   bash scripts/postgres.sh start [DIR]   initdb in a new folder (or DIR), start on a free loopback
#                                          port, create the role and database `keysmith`; prints
#                                          DATABASE_URL=... and KEYSMITH_POSTGRES_DIR=... (also
#                                          written to DIR/postgres.env)
#   bash scripts/postgres.sh env [DIR]     prints those lines again
#   bash scripts/postgres.sh stop [DIR]    stops that server by its process id and deletes DIR
#
# With KEYSMITH_POSTGRES_TLS=1, start makes a certificate authority and a server certificate for
# 127.0.0.1 and localhost (openssl, in DIR/tls), turns TLS on and takes only encrypted TCP
# connections (pg_hba `hostssl`); it also prints DATABASE_SSL_CA_FILE=DIR/tls/ca.pem, for
# DATABASE_SSL=verify-ca or verify-full.
#
# DIR defaults to $KEYSMITH_POSTGRES_DIR for env and stop. `eval "$(bash scripts/postgres.sh start)"`
# followed by `export DATABASE_URL KEYSMITH_POSTGRES_DIR` points Keysmith (and the e2e harness) at it.
# The server runs as the `postgres` OS user (initdb refuses root), listens on 127.0.0.1 only, keeps
# its socket in DIR (no /var/run/postgresql), and trades durability for speed (fsync off): never
# use it for data you want to keep. The role may create databases: the e2e harness gives each test
# app a database of its own.
set -euo pipefail

log() { echo "[postgres] $*" >&2; }

bin_dir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [[ -n "$dir" && -x "$dir/initdb" ]] && echo "$dir"
}

install_postgres() {
  if bin_dir >/dev/null; then return 0; fi
  if [[ "$(id -u)" != 0 ]]; then
    log "PostgreSQL is missing: run as root, or install it: apt-get install -y postgresql"
    return 1
  fi
  log "installing postgresql from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps the package's post-install script from starting a system cluster.
  local policy=/usr/sbin/policy-rc.d created_policy=0 status=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    created_policy=1
  fi
  apt-get install -y -qq --no-install-recommends postgresql || status=$?
  if [[ "$created_policy" == 1 ]]; then rm -f "$policy"; fi
  return "$status"
}

# Runs a PostgreSQL program as the `postgres` OS user when we are root (initdb refuses root).
as_postgres() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A CA and a server certificate signed by it, in $1 (owned by postgres: the key must be 0600 and its own).
make_tls() {
  local tls="$1"
  if ! command -v openssl >/dev/null; then
    if [[ "$(id -u)" != 0 ]]; then log "openssl is missing: apt-get install -y openssl"; return 1; fi
    apt-get install -y -qq --no-install-recommends openssl
  fi
  mkdir -p "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=keysmith test CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$tls/server.key" -out "$tls/server.csr" >/dev/null 2>&1
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$tls/san.ext"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial -days 2 \
    -extfile "$tls/san.ext" -out "$tls/server.pem" >/dev/null 2>&1
  rm -f "$tls/ca.key" "$tls/server.csr" "$tls/san.ext" "$tls/ca.srl"
  chmod 0600 "$tls/server.key"
  chmod 0644 "$tls/ca.pem" "$tls/server.pem"
  if [[ "$(id -u)" == 0 ]]; then chown -R postgres: "$tls"; fi
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

start() {
  install_postgres
  local bin dir port password
  bin="$(bin_dir)"
  dir="${1:-$(mktemp -d /tmp/keysmith-postgres.XXXXXX)}"
  mkdir -p "$dir"
  chmod 0755 "$dir"
  if [[ "$(id -u)" == 0 ]]; then chown postgres: "$dir"; fi
  password="$(node -e "console.log(require('crypto').randomBytes(18).toString('hex'))")"
  as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  local tls_options="" ca_line=""
  if [[ "${KEYSMITH_POSTGRES_TLS:-0}" == 1 ]]; then
    make_tls "$dir/tls"
    tls_options="-c ssl=on -c ssl_cert_file=$dir/tls/server.pem -c ssl_key_file=$dir/tls/server.key"
    # TCP connections only with TLS; the local socket (psql below) stays as initdb set it.
    printf 'local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n' >"$dir/data/pg_hba.conf"
    ca_line="DATABASE_SSL_CA_FILE=$dir/tls/ca.pem"
  fi
  port="$(free_port)"
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "-k $dir -c listen_addresses=127.0.0.1 -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 $tls_options" >/dev/null \
    || { cat "$dir/server.log" >&2; return 1; }
  # Two calls: CREATE DATABASE cannot run inside a transaction block. pg_signal_backend: the tests
  # drop their databases WITH (FORCE), which must also end an autovacuum worker busy in one (a
  # process of no role; without it the drop fails "must be a member of the role whose process is
  # being terminated"). A throw-away server: production gives Keysmith's role no such grant.
  as_postgres "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    -c "CREATE ROLE keysmith LOGIN CREATEDB PASSWORD '$password'" -c "GRANT pg_signal_backend TO keysmith"
  as_postgres "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    -c "CREATE DATABASE keysmith OWNER keysmith"
  printf 'DATABASE_URL=postgres://keysmith:%s@127.0.0.1:%s/keysmith\nKEYSMITH_POSTGRES_DIR=%s\n' "$password" "$port" "$dir" >"$dir/postgres.env"
  if [[ -n "$ca_line" ]]; then echo "$ca_line" >>"$dir/postgres.env"; fi
  log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port${ca_line:+ (TLS only)}, data in $dir"
  cat "$dir/postgres.env"
}

folder() {
  local dir="${1:-${KEYSMITH_POSTGRES_DIR:-}}"
  if [[ -z "$dir" || ! -f "$dir/postgres.env" ]]; then
    log "no server folder: pass the DIR that start printed, or set KEYSMITH_POSTGRES_DIR"
    return 1
  fi
  echo "$dir"
}

stop() {
  local dir pid
  dir="$(folder "${1:-}")"
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    pid="$(head -n 1 "$dir/data/postmaster.pid")"
    # SIGINT is PostgreSQL's fast shutdown: sessions are ended, nothing waits for clients.
    if kill -0 "$pid" 2>/dev/null && kill -INT "$pid"; then
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
    fi
  fi
  rm -rf "$dir"
  log "stopped and removed $dir"
}

case "${1:-}" in
  install) install_postgres ;;
  start) start "${2:-}" ;;
  env) cat "$(folder "${2:-}")/postgres.env" ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: bash scripts/postgres.sh install | start [DIR] | env [DIR] | stop [DIR]" >&2; exit 2 ;;
esac
