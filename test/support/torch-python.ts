import { spawnSync } from 'node:child_process';

/**
 * A Python that can import torch and numpy, for the PyTorch example's tests: $KUBETUNE_TEST_PYTHON,
 * else python3 on PATH, else Debian's /usr/bin/python3 (a pyenv or venv python3 may shadow it).
 * Throws, saying what to install, when none can.
 */
export function torchPython(): string {
  const candidates = [process.env['KUBETUNE_TEST_PYTHON'], 'python3', '/usr/bin/python3'].filter(
    (c): c is string => c !== undefined && c !== '',
  );
  for (const python of candidates) {
    const res = spawnSync(python, ['-c', 'import torch, numpy'], { stdio: 'ignore', timeout: 120_000 });
    if (res.status === 0) return python;
  }
  throw new Error(
    `PyTorch is missing: none of ${candidates.join(', ')} can import torch and numpy. ` +
      'Install it (Debian: apt-get install python3-torch, or run scripts/ensure-test-deps.sh as root) ' +
      'or set KUBETUNE_TEST_PYTHON to a python that has torch and numpy',
  );
}
