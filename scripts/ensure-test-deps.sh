#!/usr/bin/env bash
# Packages that tests need beyond npm's: one self-contained, idempotent block per package.
# As root with apt-get each is installed when missing; otherwise the script stops and says what
# to install, so no test is skipped for want of it.
set -euo pipefail

# python3-torch (Debian's, for /usr/bin/python3): examples/pytorch-distributed/train.py, run by
# test/integration/cluster-jobset.test.ts as two processes (torch.distributed, gloo, CPU).
if ! /usr/bin/python3 -c 'import torch.distributed' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing python3-torch with apt-get"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-torch; } >/dev/null ||
      { echo "apt-get install python3-torch failed" >&2; exit 1; }
  else
    echo "PyTorch for /usr/bin/python3 is missing: install it (Debian: apt-get install python3-torch)" >&2
    exit 1
  fi
fi
