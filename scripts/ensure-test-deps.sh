#!/usr/bin/env bash
# System packages the tests need beyond node_modules: one idempotent block per package, each
# installed with apt-get when running as root on Debian/Ubuntu, else a failure saying what to install.
set -euo pipefail

# chromium: the headless browser of the report and dashboard tests (test/support/browser.ts).
if [ -z "${KUBETUNE_TEST_CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium with apt-get"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } >/dev/null ||
      { echo "apt-get install chromium failed" >&2; exit 1; }
  else
    echo "chromium is missing: install it (Debian: apt-get install chromium) or set KUBETUNE_TEST_CHROMIUM to its binary" >&2
    exit 1
  fi
fi
