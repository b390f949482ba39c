#!/usr/bin/env bash
# Makes sure the system Chromium (and its driver) that the browser tests drive is installed.
# Idempotent: does nothing when /usr/bin/chromium exists. The browser tests use Debian's own
# Chromium rather than `playwright install`, whose browser downloads need network access
# that CI machines and sandboxes often do not have.
# Usage: scripts/ensure_chromium.sh        (needs root, or sudo without a password)
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ -x $CHROMIUM ]]; then
  echo "ensure_chromium.sh: $($CHROMIUM --version 2>/dev/null || echo "$CHROMIUM") already installed"
  exit 0
fi

SUDO=()
if [[ $(id -u) != 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "ensure_chromium.sh: $CHROMIUM is missing and this user is not root (no sudo)." >&2
    echo "Install it as root: apt-get install -y chromium chromium-driver" >&2
    exit 1
  fi
  SUDO=(sudo -n)
fi

echo "ensure_chromium.sh: installing chromium and chromium-driver with apt-get"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y chromium chromium-driver
"$CHROMIUM" --version
