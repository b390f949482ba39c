#!/usr/bin/env bash
# Make PostgreSQL server binaries available for the test suite (idempotent).
# The tests start their own throwaway cluster; this only installs the Debian packages.
set -euo pipefail

have_binaries() {
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null \
    && compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null
}

if have_binaries; then
  echo "PostgreSQL binaries present: $(ls -d /usr/lib/postgresql/*/bin | head -n1)"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "apt-get not found: install PostgreSQL server binaries (initdb, pg_ctl) yourself" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends postgresql

if ! have_binaries; then
  echo "postgresql installed but no initdb under /usr/lib/postgresql/*/bin" >&2
  exit 1
fi
echo "PostgreSQL binaries installed: $(ls -d /usr/lib/postgresql/*/bin | head -n1)"
