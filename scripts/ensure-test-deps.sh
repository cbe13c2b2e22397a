#!/usr/bin/env bash
# System packages the tests need beyond node_modules: one idempotent block per package, each
# installed with apt-get when running as root on Debian/Ubuntu, else a failure saying what to install.
set -euo pipefail

# python3-torch: examples/pytorch/train.py, run on CPU by test/integration/local-pytorch.test.ts
# with the first of $KUBETUNE_TEST_PYTHON, python3, /usr/bin/python3 that has torch and numpy.
if ! { [ -n "${KUBETUNE_TEST_PYTHON:-}" ] && "$KUBETUNE_TEST_PYTHON" -c 'import torch, numpy' >/dev/null 2>&1; } &&
  ! python3 -c 'import torch, numpy' >/dev/null 2>&1 &&
  ! /usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing python3-torch with apt-get"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-torch python3-numpy; } >/dev/null ||
      { echo "apt-get install python3-torch failed" >&2; exit 1; }
  else
    echo "PyTorch is missing: install it (Debian: apt-get install python3-torch) or set KUBETUNE_TEST_PYTHON to a python with torch and numpy" >&2
    exit 1
  fi
fi
