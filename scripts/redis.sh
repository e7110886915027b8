#!/usr/bin/env bash
# A throw-away Redis for tests and benchmarks: Debian's redis-server, started with arguments only
# (no /etc/redis/redis.conf, which daemonizes and writes under /var), on a free loopback port, with
# no persistence, and stopped by its process id.
#
#   scripts/redis.sh install   install redis-server from Debian when missing
#   scripts/redis.sh start     install if needed, start, wait until it answers PING, write the env file
#   scripts/redis.sh stop      stop the server started by `start` (its process id, checked to be redis-server)
#   scripts/redis.sh status    exit 0 when it is running and answers
#   scripts/redis.sh env       print KEYSMITH_REDIS_URL for this server
#
# Settings (environment): REDIS_DIR (.cache/redis-$USER-<checkout hash>: its pid, log and env files),
# REDIS_PORT (a free port when unset; `start` after `stop` reuses the port in REDIS_DIR/redis.port).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REDIS_DIR="${REDIS_DIR:-$ROOT/.cache/redis-$(id -un)-$(printf '%s' "$ROOT" | md5sum | cut -c1-8)}"
PID_FILE="$REDIS_DIR/redis.pid"
PORT_FILE="$REDIS_DIR/redis.port"
LOG_FILE="$REDIS_DIR/redis.log"
ENV_FILE="$REDIS_DIR/redis.env"

log() { printf '[redis] %s\n' "$*" >&2; }
die() { printf '[redis] error: %s\n' "$*" >&2; exit 1; }

install() {
  command -v redis-server >/dev/null 2>&1 && return
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "redis-server is missing: run as root, or apt-get install -y redis-server"
    sudo=(sudo)
  fi
  log "installing redis-server from Debian"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  # policy-rc.d keeps the package's post-install script from starting the system service.
  local policy=/usr/sbin/policy-rc.d created=0 status=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod +x "$policy"
    created=1
  fi
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends redis-server >&2 || status=$?
  [[ "$created" == 1 ]] && "${sudo[@]}" rm -f "$policy"
  [[ "$status" == 0 ]] || die "apt-get install redis-server failed"
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

running_pid() {
  [[ -s "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ -r "/proc/$pid/comm" && "$(cat "/proc/$pid/comm")" == redis-server* ]] || return 1
  echo "$pid"
}

answers() {
  local port="$1" reply
  { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  IFS= read -r -t 1 reply <&3 || reply=''
  exec 3>&-
  [[ "$reply" == +PONG* ]]
}

start() {
  if running_pid >/dev/null && answers "$(cat "$PORT_FILE")"; then log "already running"; return; fi
  install
  mkdir -p "$REDIS_DIR"
  local port="${REDIS_PORT:-}"
  [[ -z "$port" && -s "$PORT_FILE" ]] && port="$(cat "$PORT_FILE")"
  [[ -z "$port" ]] && port="$(free_port)"
  setsid redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --dir "$REDIS_DIR" --logfile "$LOG_FILE" </dev/null >/dev/null 2>&1 &
  local pid=$!
  echo "$pid" >"$PID_FILE"
  echo "$port" >"$PORT_FILE"
  for _ in $(seq 1 100); do
    if answers "$port"; then
      echo "KEYSMITH_REDIS_URL=redis://127.0.0.1:$port" >"$ENV_FILE"
      log "redis-server $pid on 127.0.0.1:$port"
      return
    fi
    kill -0 "$pid" 2>/dev/null || die "redis-server exited; see $LOG_FILE"
    sleep 0.1
  done
  die "redis-server did not answer on port $port; see $LOG_FILE"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then rm -f "$PID_FILE"; return; fi
  kill "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PID_FILE"; log "stopped $pid"; return; }
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$PID_FILE"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) running_pid >/dev/null && answers "$(cat "$PORT_FILE")" ;;
  env) [[ -s "$ENV_FILE" ]] || die "not started"; cat "$ENV_FILE" ;;
  *) die "usage: scripts/redis.sh install|start|stop|status|env" ;;
esac
