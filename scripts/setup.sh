#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Idempotent set-up shared by `npm start`, `npm test` (their pre-scripts) and .ci/run: installs missing
# Debian packages (when root) and the npm dependencies (when the lockfile changed). Fast when all is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
while read -r pkg; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done < scripts/debian-packages.txt
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "cpkit setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "cpkit setup: missing Debian packages (${missing[*]}); install them with apt-get as root" >&2
  fi
fi

# kubectl (the e2e tests' reference client) ships preinstalled with this machine image as the Debian
# package `kubectl`; Debian's own archive does not carry it, so it cannot be apt-get installed here.
command -v kubectl >/dev/null || echo "cpkit setup: kubectl not found (Debian package kubectl); the kubectl e2e tests will fail" >&2

# better-sqlite3 must compile here, never fetch a prebuilt binary.
export npm_config_build_from_source=true
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "cpkit setup: installing npm dependencies (npm ci; better-sqlite3 compiles from source, ~2 min the first time)"
  # npm ci first. It refuses a lockfile that lacks other platforms' optional native packages (rollup,
  # biome, ...), and the registry mirror reachable here does not serve those, so the lockfile cannot
  # list them; then fall back to npm install, which installs the same locked versions for this platform.
  if ! npm ci --no-audit --no-fund; then
    echo "cpkit setup: npm ci refused the lockfile (foreign-platform optional packages); using npm install"
    npm install --no-audit --no-fund
  fi
fi
