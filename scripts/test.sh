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
echo "==> prometheus (a real server for test/integration/prometheus-query*.test.ts)"
if [ -z "${KUBETUNE_TEST_PROMETHEUS:-}" ] && ! command -v prometheus >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing prometheus with apt-get"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; } >/dev/null ||
      { echo "apt-get install prometheus failed" >&2; exit 1; }
  else
    echo "prometheus is missing: install it (Debian: apt-get install prometheus) or set KUBETUNE_TEST_PROMETHEUS to its binary" >&2
    exit 1
  fi
fi
echo "==> test prerequisites (scripts/ensure-test-deps.sh)"
bash scripts/ensure-test-deps.sh
echo "==> unit tests"
npm run --silent test:unit
echo "==> test cluster (test/cluster/up: builds once, then starts in seconds)"
cluster_status="$(mktemp)"
KUBETUNE_CLUSTER_STATUS_FILE="$cluster_status" bash test/cluster/up
# Stop the cluster afterwards only if this run started it; a developer's running one stays.
if [ "$(cat "$cluster_status")" = started ]; then
  trap 'bash test/cluster/down' EXIT
fi
rm -f "$cluster_status"
echo "==> integration tests"
npm run --silent test:integration
