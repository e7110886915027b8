#!/usr/bin/env bash
# The Keycloak harness used by the quick start, the tests, CI and the benchmarks.
#
#   scripts/keycloak.sh download   fetch and unpack the pinned Keycloak once (Maven Central, cached)
#   scripts/keycloak.sh start      download if needed, start on 127.0.0.1 in dev mode, wait, seed
#   scripts/keycloak.sh stop       stop the server started by `start` (its Java process and launcher)
#   scripts/keycloak.sh status     exit 0 when it is running and ready
#   scripts/keycloak.sh seed       (re)seed realms and clients; idempotent
#   scripts/keycloak.sh env        print the variables Keysmith needs to use this Keycloak
#
# Settings (environment): KEYCLOAK_VERSION, KEYCLOAK_PORT (8180), KEYCLOAK_MANAGEMENT_PORT (9180),
# KEYCLOAK_CACHE_DIR (.cache/keycloak), KEYCLOAK_BOOTSTRAP_USER / KEYCLOAK_BOOTSTRAP_PASSWORD
# (admin / admin: a local throw-away server only), KEYCLOAK_START_TIMEOUT (240 seconds),
# KEYCLOAK_REALMS_CACHE_MAX_COUNT (100000: Keycloak's realms cache, 10000 by default, holds each
# client, role and scope; a realm of 10,000 clients thrashes the default, see the README).
#
# $KEYCLOAK_CACHE_DIR/keycloak.pid holds the id of Keycloak's Java process once it is ready (the
# process test/support/keycloak-process.ts pauses). kc.sh sometimes runs Java as a child and
# sometimes exec-s it, so the script looks the Java process up instead of trusting `$!`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KEYCLOAK_VERSION="${KEYCLOAK_VERSION:-26.7.3}"
KEYCLOAK_PORT="${KEYCLOAK_PORT:-8180}"
KEYCLOAK_MANAGEMENT_PORT="${KEYCLOAK_MANAGEMENT_PORT:-9180}"
KEYCLOAK_REALMS_CACHE_MAX_COUNT="${KEYCLOAK_REALMS_CACHE_MAX_COUNT:-100000}"
CACHE_DIR="${KEYCLOAK_CACHE_DIR:-$ROOT/.cache/keycloak}"
HOME_DIR="$CACHE_DIR/keycloak-$KEYCLOAK_VERSION"
PID_FILE="$CACHE_DIR/keycloak.pid"
LOG_FILE="$CACHE_DIR/keycloak.log"
ENV_FILE="$CACHE_DIR/keysmith.env"
START_TIMEOUT="${KEYCLOAK_START_TIMEOUT:-240}"
export KEYCLOAK_BOOTSTRAP_USER="${KEYCLOAK_BOOTSTRAP_USER:-admin}"
export KEYCLOAK_BOOTSTRAP_PASSWORD="${KEYCLOAK_BOOTSTRAP_PASSWORD:-admin}"

log() { printf '[keycloak] %s\n' "$*" >&2; }
die() { printf '[keycloak] error: %s\n' "$*" >&2; exit 1; }

download() {
  if [[ -x "$HOME_DIR/bin/kc.sh" ]]; then return; fi
  command -v mvn >/dev/null || die "Maven (mvn) is needed to download Keycloak from Maven Central"
  mkdir -p "$CACHE_DIR"
  local archive="$CACHE_DIR/keycloak-quarkus-dist-$KEYCLOAK_VERSION.tar.gz"
  if [[ ! -s "$archive" ]]; then
    log "downloading org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION from Maven Central"
    mvn -q -B dependency:copy \
      "-Dartifact=org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:tar.gz" \
      "-DoutputDirectory=$CACHE_DIR" >&2 || die "mvn dependency:copy failed"
  fi
  log "unpacking $archive"
  tar -xzf "$archive" -C "$CACHE_DIR"
  [[ -x "$HOME_DIR/bin/kc.sh" ]] || die "unpacked archive has no bin/kc.sh"
}

java_major() {
  "$1" -version 2>&1 | awk -F'"' '/version/ { split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit }'
}

# Keycloak 26.7 runs on Java 17, 21 and 25. Prefer JAVA_HOME, then `java` on the PATH, then the
# JDKs under /usr/lib/jvm, newest first.
pick_java() {
  local candidates=() candidate major
  [[ -n "${JAVA_HOME:-}" ]] && candidates+=("$JAVA_HOME/bin/java")
  command -v java >/dev/null && candidates+=("$(command -v java)")
  for candidate in $(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | sort -r); do candidates+=("$candidate"); done
  for candidate in "${candidates[@]}"; do
    [[ -x "$candidate" ]] || continue
    major="$(java_major "$candidate")"
    case "$major" in
      17|21|25)
        JAVA_FOR_KEYCLOAK="$(cd "$(dirname "$candidate")/.." && pwd)"
        log "using Java $major at $JAVA_FOR_KEYCLOAK"
        return ;;
      *) log "skipping Java $major at $candidate: Keycloak $KEYCLOAK_VERSION needs Java 17, 21 or 25" ;;
    esac
  done
  die "no Java 17, 21 or 25 found (looked at JAVA_HOME, PATH, /usr/lib/jvm). Install openjdk-17-jre-headless."
}

is_ready() {
  curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$KEYCLOAK_MANAGEMENT_PORT/health/ready" 2>/dev/null
}

# Whether PID is Keycloak's Java process for this KEYCLOAK_CACHE_DIR (not kc.sh, not another program
# that got the id after a reboot).
is_keycloak_java() {
  local args home
  args="$(tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null)" || return 1
  [[ $'\n'"$args"$'\n' == *$'\nio.quarkus.bootstrap.runner.QuarkusEntryPoint\n'* ]] || return 1
  home="$(sed -n 's/^-Dkc\.home\.dir=//p' <<<"$args" | head -n 1)"
  [[ -n "$home" && "$(readlink -f "$home")" == "$(readlink -f "$HOME_DIR")" ]]
}

# The Java process for a recorded id: the id itself, or the one Java child of a kc.sh launcher.
java_pid_of() {
  local pid="$1" child
  if is_keycloak_java "$pid"; then echo "$pid"; return 0; fi
  for child in $(pgrep -P "$pid" 2>/dev/null); do
    if is_keycloak_java "$child"; then echo "$child"; return 0; fi
  done
  return 1
}

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  java_pid_of "$(cat "$PID_FILE")"
}

start() {
  if running_pid >/dev/null && is_ready; then
    log "already running on 127.0.0.1:$KEYCLOAK_PORT"
    seed
    return
  fi
  download
  pick_java
  mkdir -p "$CACHE_DIR"
  log "starting Keycloak $KEYCLOAK_VERSION on 127.0.0.1:$KEYCLOAK_PORT (log: $LOG_FILE)"
  JAVA_HOME="$JAVA_FOR_KEYCLOAK" \
  KC_BOOTSTRAP_ADMIN_USERNAME="$KEYCLOAK_BOOTSTRAP_USER" \
  KC_BOOTSTRAP_ADMIN_PASSWORD="$KEYCLOAK_BOOTSTRAP_PASSWORD" \
    setsid "$HOME_DIR/bin/kc.sh" start-dev \
      --http-host=127.0.0.1 \
      --http-port="$KEYCLOAK_PORT" \
      --http-management-port="$KEYCLOAK_MANAGEMENT_PORT" \
      --hostname-strict=false \
      --features=client-secret-rotation \
      --cache-embedded-realms-max-count="$KEYCLOAK_REALMS_CACHE_MAX_COUNT" \
      --health-enabled=true \
      --metrics-enabled=false \
      >"$LOG_FILE" 2>&1 < /dev/null &
  local launcher=$! waited=0 java
  # Until the Java process is found, the launcher's id lets `stop` find it.
  echo "$launcher" >"$PID_FILE"
  until is_ready; do
    if ! kill -0 "$launcher" 2>/dev/null; then
      tail -n 40 "$LOG_FILE" >&2 || true
      die "Keycloak exited during start-up (log above)"
    fi
    if (( waited >= START_TIMEOUT )); then
      tail -n 40 "$LOG_FILE" >&2 || true
      stop
      die "Keycloak was not ready after ${START_TIMEOUT}s (log tail above)"
    fi
    sleep 2; waited=$((waited + 2))
  done
  java="$(java_pid_of "$launcher")" || { stop; die "Keycloak answers, but its Java process is not launcher $launcher or its child"; }
  echo "$java" >"$PID_FILE"
  log "ready after ${waited}s (Java process $java)"
  seed
}

stop() {
  local pid group
  if pid="$(running_pid)"; then
    # `start` ran kc.sh under setsid: its process group holds the launcher and Java.
    group="$(ps -o pgid= -p "$pid" | tr -d ' ')"
    log "stopping Keycloak (Java process $pid, process group $group)"
    if [[ -n "$group" && "$group" != "$(ps -o pgid= -p $$ | tr -d ' ')" ]]; then
      kill -TERM -- "-$group" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    else
      kill -TERM "$pid" 2>/dev/null || true
    fi
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      log "Keycloak did not stop within 30s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  elif [[ -f "$PID_FILE" ]]; then
    log "no Keycloak process for the recorded id $(cat "$PID_FILE"): removing the stale pid file"
  fi
  rm -f "$PID_FILE"
}

seed() {
  KEYCLOAK_URL="http://127.0.0.1:$KEYCLOAK_PORT" KEYSMITH_SEED_ENV_FILE="$ENV_FILE" \
    node "$ROOT/scripts/seed-keycloak.mjs" >&2
}

case "${1:-}" in
  download) download ;;
  start) start ;;
  stop) stop ;;
  status) running_pid >/dev/null && is_ready ;;
  seed) seed ;;
  env) cat "$ENV_FILE" ;;
  *) die "usage: $0 download|start|stop|status|seed|env" ;;
esac
