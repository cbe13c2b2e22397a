import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { REPO_ROOT } from '../../support/run-cli.js';

const SCRIPT = join(REPO_ROOT, 'examples/pytorch/gpu-benchmark.sh');
const TRAINER = join(REPO_ROOT, 'test/fixtures/gpu-trainer.mjs');

/** A study like the PyTorch example's (one nvidia.com/gpu per trial) with the recording trainer. */
function fakeStudy(dir: string): string {
  const manifest = {
    apiVersion: 'kubetune.io/v1alpha1',
    kind: 'Study',
    metadata: { name: 'bench' },
    spec: {
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: { name: 'random' },
      parameters: [{ name: 'x', type: 'double', min: 0, max: 1 }],
      maxTrials: 100,
      trialTemplate: {
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: 'train',
                  command: ['node', TRAINER, '--record', join(dir, 'record.log'), '--hold-ms', '50'],
                  resources: { limits: { 'nvidia.com/gpu': 1 } },
                },
              ],
            },
          },
        },
      },
    },
  };
  const file = join(dir, 'study.yaml');
  writeFileSync(file, stringify(manifest));
  return file;
}

describe('examples/pytorch/gpu-benchmark.sh (with a fake nvidia-smi)', () => {
  it('runs the study once per --trials-per-gpu setting and tabulates trials/hour, mean SM and best', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-gpu-bench-'));
    const out = join(dir, 'out');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${join(REPO_ROOT, 'test/fixtures/fake-nvidia-smi')}${delimiter}${process.env['PATH']}`,
      FAKE_NVIDIA_SMI_SM: '37',
      FAKE_NVIDIA_SMI_DMON_MS: '50',
      GPU: '1',
      TRIALS: '4',
      PER_GPU: '1 2',
      OUT: out,
      STUDY: fakeStudy(dir),
      KUBETUNE: `${process.execPath} --import tsx ${join(REPO_ROOT, 'test/support/cli.ts')}`,
    };
    const res = spawnSync('bash', [SCRIPT], { env, encoding: 'utf8', timeout: 240_000 });
    assert.equal(res.status, 0, res.stderr);
    const table = readFileSync(join(out, 'table.md'), 'utf8');
    assert.equal(res.stdout, table);
    const rows = table
      .split('\n')
      .filter((l) => /^\| \d/.test(l))
      .map((l) =>
        l
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim()),
      );
    assert.equal(rows.length, 2, table);
    for (const [perGpu, row] of [
      ['1', rows[0]!],
      ['2', rows[1]!],
    ] as const) {
      const [n, parallelism, ended, pruned, failed, wall, perHour, sm, best, exit] = row;
      assert.deepEqual(
        [n, parallelism, ended, pruned, failed, sm, best, exit],
        [perGpu, perGpu, '4', '0', '0', '37', '1', '0'],
      );
      // trials/hour comes from the unrounded wall, which the table rounds to 0.1 s: it must be
      // 4 trials over some wall within 0.05 s of the one shown (a short run makes that wide).
      const shown = Number(wall);
      const [low, high] = [(4 * 3600) / (shown + 0.05), (4 * 3600) / Math.max(shown - 0.05, 1e-3)];
      assert.ok(shown > 0 && Number(perHour) >= low - 1 && Number(perHour) <= high + 1, row.join(' '));
      const results = JSON.parse(readFileSync(join(out, `per-gpu-${perGpu}`, 'results.json'), 'utf8')) as {
        trials: { devices: string[] }[];
      };
      for (const t of results.trials) assert.deepEqual(t.devices, ['1']);
    }
    assert.match(table, /^GPU 1: Fake GPU; 4 trials per run;/);
  });

  it('stops with a clear message when the GPU is not there', () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${join(REPO_ROOT, 'test/fixtures/fake-nvidia-smi')}${delimiter}${process.env['PATH']}`,
      GPU: '5',
      OUT: mkdtempSync(join(tmpdir(), 'kt-gpu-bench-')),
    };
    const res = spawnSync('bash', [SCRIPT], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(res.status, 1);
    assert.match(res.stderr, /gpu-benchmark: no GPU 5 in nvidia-smi -L/);
  });
});
