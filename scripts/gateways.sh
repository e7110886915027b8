#!/usr/bin/env bash
# Installs the gateways the e2e suites run for real (nginx and Caddy, from Debian) when missing.
# One `apt-get update`, then one `apt-get install` of everything missing, serially (parallel
# installs fight over the dpkg lock). The tests start each gateway themselves as an unprivileged
# process on a free loopback port (test/support/gateways/); no system service is started here.
# Envoy and Traefik are not packaged by Debian: their contract is tested without the binaries.
set -euo pipefail

missing=()
command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
command -v caddy >/dev/null 2>&1 || missing+=(caddy)
if [[ ${#missing[@]} -eq 0 ]]; then exit 0; fi

if [[ "$(id -u)" != 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); else
    echo "[gateways] missing ${missing[*]}: run as root, or install them: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=()
fi
echo "[gateways] installing ${missing[*]} from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
# policy-rc.d keeps the packages' post-install scripts from starting system services.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod +x "$policy"
  created_policy=1
fi
status=0
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" || status=$?
if [[ "$created_policy" == 1 ]]; then "${SUDO[@]}" rm -f "$policy"; fi
exit "$status"
