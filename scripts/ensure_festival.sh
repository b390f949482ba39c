#!/usr/bin/env bash
# Install the Festival TTS voices and sox used to synthesise the test meeting corpus.
# Idempotent: does nothing when text2wave, sox and the four voices are already present.
# Needs root (or sudo) on Debian/Ubuntu; see ARCHITECTURE.md "Test speech with distinct real voices".
set -euo pipefail

PACKAGES=(festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts festvox-itapc16k sox)

have_all() {
  command -v text2wave >/dev/null 2>&1 || return 1
  command -v sox >/dev/null 2>&1 || return 1
  local pkg
  for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || return 1
  done
}

if have_all; then
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "ensure_festival: need root or sudo to install: ${PACKAGES[*]}" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure_festival: apt-get not found; install by hand: ${PACKAGES[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"
have_all || { echo "ensure_festival: install finished but tools are still missing" >&2; exit 1; }
