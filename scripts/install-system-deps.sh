#!/usr/bin/env bash
# Installs the system packages Sluice needs (Debian/Ubuntu) when they are missing.
# As root it installs them with apt-get; otherwise it says exactly what to install.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || [ -x /usr/bin/redis-cli ] || missing+=(redis-tools)
# The sink tests start their own PostgreSQL from Debian's binaries (initdb, postgres).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
# better-sqlite3 is compiled from source when its prebuilt binary cannot be downloaded.
command -v g++ >/dev/null 2>&1 && command -v make >/dev/null 2>&1 || missing+=(build-essential)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# The dashboard's browser tests drive Debian's Chromium (headless) through playwright-core.
[ -x /usr/bin/chromium ] || missing+=(chromium)
# The TLS tests make a self-signed certificate for a rediss:// server.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Sluice needs these Debian/Ubuntu packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Sluice needs: ${missing[*]} (redis-server 7.0 or newer; PostgreSQL for the sink tests; Chromium for the dashboard tests); install them with your system's package manager" >&2
  exit 1
fi
echo "Installing ${missing[*]} with apt-get…" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's packages may start a system redis on 6379 and a PostgreSQL cluster on 5432; Sluice's
# tests and its managed server use their own ports and folders, so they are left as they are.
