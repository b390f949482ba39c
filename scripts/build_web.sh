#!/usr/bin/env bash
# Builds the browser client into web/dist, doing only the work that is needed:
#   - `npm ci` when web/node_modules is missing or package-lock.json changed since the last
#     install (a stamp in node_modules records the lockfile's hash);
#   - `npm run build` when web/dist is missing or any source is newer than the last build.
# Usage: scripts/build_web.sh [--force]    (--force reinstalls and rebuilds)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WEB="$ROOT/web"
INSTALL_STAMP="$WEB/node_modules/.meetingserve-lock.sha256"
BUILD_STAMP="$WEB/dist/.meetingserve-build-stamp"
FORCE=0

for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "build_web.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

if ! command -v npm >/dev/null 2>&1; then
  echo "build_web.sh: npm not found. Install Node.js 20.19+ (with npm) and re-run." >&2
  exit 1
fi

cd "$WEB"
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"

if [[ $FORCE == 1 || ! -d node_modules || ! -f "$INSTALL_STAMP" || "$(cat "$INSTALL_STAMP")" != "$lock_hash" ]]; then
  echo "build_web.sh: installing dependencies (npm ci)"
  npm ci --no-audit --no-fund
  echo "$lock_hash" > "$INSTALL_STAMP"
else
  echo "build_web.sh: dependencies up to date"
fi

sources=(src public index.html vite.config.js package.json package-lock.json)
needs_build() {
  [[ $FORCE == 1 || ! -f dist/index.html || ! -f "$BUILD_STAMP" ]] && return 0
  local existing=()
  for path in "${sources[@]}"; do [[ -e $path ]] && existing+=("$path"); done
  [[ -n "$(find "${existing[@]}" -newer "$BUILD_STAMP" -print -quit)" ]]
}

if needs_build; then
  echo "build_web.sh: building web/dist"
  npm run build
  touch "$BUILD_STAMP"
else
  echo "build_web.sh: web/dist is up to date"
fi
