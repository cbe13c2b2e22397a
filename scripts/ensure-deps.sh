#!/usr/bin/env bash
# Installs npm dependencies when they are missing or older than the lockfile, then builds.
# Shared by `npm start` and `npm test` so that both work on a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.kubetune-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "==> installing npm dependencies"
  npm ci --no-audit --no-fund
  touch "$stamp"
fi
echo "==> building"
npm run --silent build
