#!/usr/bin/env bash
# System packages the tests need beyond node_modules: one idempotent block per package, each
# installed with apt-get when running as root on Debian/Ubuntu, else a failure saying what to install,
# so no test is skipped for want of it.
set -euo pipefail

# python3-torch, used by
# - test/integration/local-pytorch.test.ts: examples/pytorch/train.py, with the first of
#   $KUBETUNE_TEST_PYTHON, python3, /usr/bin/python3 that has torch and numpy;
# - test/integration/cluster-jobset.test.ts: examples/pytorch-distributed/train.py, which the test
#   cluster's image map runs with /usr/bin/python3 as two processes (torch.distributed, gloo, CPU).
has_torch() { "$1" -c 'import torch, torch.distributed, numpy' >/dev/null 2>&1; }
if ! has_torch /usr/bin/python3; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing python3-torch with apt-get"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-torch python3-numpy; } >/dev/null ||
      { echo "apt-get install python3-torch failed" >&2; exit 1; }
  else
    echo "PyTorch for /usr/bin/python3 is missing: install it (Debian: apt-get install python3-torch python3-numpy)" >&2
    exit 1
  fi
fi

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
