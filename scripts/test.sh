#!/usr/bin/env bash
# The whole test suite: static checks, unit tests, then integration tests against a real
# control plane that this script builds (cached under ~/.cache) and starts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
echo "==> typecheck"
npm run --silent typecheck
echo "==> lint"
npm run --silent lint
npm run --silent format:check
echo "==> helm (test/cluster/build-helm.sh: built from its Go module once, then cached)"
bash test/cluster/build-helm.sh >/dev/null
echo "==> unit tests"
npm run --silent test:unit
