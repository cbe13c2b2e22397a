import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { REPO_ROOT, runCli } from '../../support/run-cli.js';

const TRAINER = join(REPO_ROOT, 'test/fixtures/gpu-trainer.mjs');
const FAKE_SMI_DIR = join(REPO_ROOT, 'test/fixtures/fake-nvidia-smi');

interface Results {
  outcome: { succeeded: boolean; message: string };
  trials: {
    name: string;
    state: string;
    params: Record<string, unknown>;
    reason?: string;
    message?: string;
    devices?: string[];
  }[];
}

/** A study whose trials ask for `gpus` nvidia.com/gpu and run the recording trainer. */
function studyFile(
  dir: string,
  gpus: number | string,
  maxTrials: number,
  parallelism: number,
  parameters: Record<string, unknown>[] = [],
): string {
  const record = join(dir, 'record.log');
  const manifest = {
    apiVersion: 'kubetune.io/v1alpha1',
    kind: 'Study',
    metadata: { name: 'gpus' },
    spec: {
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: { name: 'random' },
      parameters: [{ name: 'x', type: 'double', min: 0, max: 1 }, ...parameters],
      maxTrials,
      parallelism,
      maxFailedTrials: 0,
      trialTemplate: {
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: 'train',
                  command: ['node', TRAINER, '--record', record, '--hold-ms', '150'],
                  resources: { limits: { 'nvidia.com/gpu': gpus } },
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

/** kubetune run with the fake nvidia-smi (2 GPUs) first on PATH and no inherited device list. */
function runWithFakeGpus(args: string[]) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${FAKE_SMI_DIR}${delimiter}${process.env['PATH']}`,
  };
  delete env['CUDA_VISIBLE_DEVICES'];
  delete env['CUDA_DEVICE_ORDER'];
  return runCli(['run', ...args], { env, timeoutMs: 120_000 });
}

/**
 * Replays the trainers' start/end records in the order they were appended and returns, per
 * device, the most trials that held it at once; a trial's devices come from what it was shown.
 */
function peakPerDevice(recordFile: string): Map<string, number> {
  const holders = new Map<string, number>();
  const peak = new Map<string, number>();
  for (const line of readFileSync(recordFile, 'utf8').trim().split('\n')) {
    const [event, , devices] = line.split(' ') as [string, string, string];
    for (const d of devices.split(',')) {
      const n = (holders.get(d) ?? 0) + (event === 'start' ? 1 : -1);
      holders.set(d, n);
      peak.set(d, Math.max(peak.get(d) ?? 0, n));
    }
  }
  return peak;
}

function recordedDevices(recordFile: string): Map<string, string> {
  const seen = new Map<string, string>();
  for (const line of readFileSync(recordFile, 'utf8').trim().split('\n')) {
    const [event, trial, devices] = line.split(' ') as [string, string, string];
    if (event === 'start') seen.set(trial, devices);
  }
  return seen;
}

describe('kubetune run on a machine with GPUs (fake nvidia-smi listing 2)', () => {
  for (const trialsPerGpu of [1, 2]) {
    it(`shows each trial exactly its devices and never puts more than ${trialsPerGpu} on one`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kt-gpus-'));
      const out = join(dir, 'out');
      const file = studyFile(dir, 1, 8, 4);
      const res = await runWithFakeGpus([file, '--output', out, '--trials-per-gpu', String(trialsPerGpu)]);
      assert.equal(res.code, 0, res.stderr);
      const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
      assert.equal(results.trials.length, 8);
      const seen = recordedDevices(join(dir, 'record.log'));
      for (const t of results.trials) {
        assert.equal(t.state, 'Succeeded', `${t.name}: ${t.message}`);
        assert.equal(t.devices?.length, 1, `${t.name} devices ${String(t.devices)}`);
        assert.ok(['0', '1'].includes(t.devices[0]!), `${t.name} got ${t.devices[0]}`);
        assert.equal(seen.get(t.name), t.devices.join(','), `${t.name} saw other devices than recorded`);
        assert.match(
          readFileSync(join(out, 'logs', `${t.name}.log`), 'utf8'),
          new RegExp(`visible devices \\[${t.devices[0]}\\]`),
        );
      }
      for (const [device, peak] of peakPerDevice(join(dir, 'record.log')))
        assert.ok(peak <= trialsPerGpu, `GPU ${device} held by ${peak} trials at once`);
      const csv = readFileSync(join(out, 'trials.csv'), 'utf8').trim().split('\n');
      const col = csv[0]!.split(',').indexOf('devices');
      assert.ok(col > 0, csv[0]);
      assert.deepEqual(
        csv.slice(1).map((row) => row.split(',')[col]),
        results.trials.map((t) => t.devices!.join(',')),
      );
      assert.match(res.stderr, /▶ gpus-\d+ started on GPU [01]:/);
    });
  }

  it('gives a 2-GPU trial both devices, one trial at a time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-gpus-'));
    const out = join(dir, 'out');
    const res = await runWithFakeGpus([studyFile(dir, 2, 3, 3), '--output', out]);
    assert.equal(res.code, 0, res.stderr);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
    for (const t of results.trials) assert.deepEqual(t.devices, ['0', '1']);
    assert.deepEqual([...peakPerDevice(join(dir, 'record.log')).values()], [1, 1]);
  });

  it('gives each trial as many devices as its own GPU parameter asks for, never sharing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-gpus-'));
    const out = join(dir, 'out');
    const g = { name: 'g', type: 'int', min: 1, max: 2 };
    const res = await runWithFakeGpus([studyFile(dir, '${params.g}', 8, 2, [g]), '--output', out]);
    assert.equal(res.code, 0, res.stderr);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
    assert.equal(results.trials.length, 8);
    for (const t of results.trials) assert.equal(t.devices?.length, Number(t.params['g']), t.name);
    for (const [d, peak] of peakPerDevice(join(dir, 'record.log'))) assert.equal(peak, 1, `GPU ${d}`);
  });

  it('fails a trial that asks for more GPUs than the machine has, before it starts, and says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-gpus-'));
    const out = join(dir, 'out');
    const res = await runWithFakeGpus([studyFile(dir, 3, 2, 1), '--output', out]);
    assert.equal(res.code, 1);
    assert.match(
      res.stderr,
      /each trial asks for at most 3 nvidia\.com\/gpu, but this machine has 2 \(nvidia-smi -L\)/,
    );
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
    assert.equal(results.outcome.succeeded, false);
    const [first] = results.trials;
    assert.equal(first?.state, 'Failed');
    assert.equal(first?.reason, 'InsufficientGpus');
    assert.match(first?.message ?? '', /asks for 3 GPUs but this machine has 2 \(0,1 from nvidia-smi -L\)/);
    assert.throws(() => readFileSync(join(dir, 'record.log')), /ENOENT/, 'a trainer ran');
  });

  it('runs GPU trials without a GPU under --gpus none, and takes --gpus over nvidia-smi', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-gpus-'));
    const none = await runWithFakeGpus([
      studyFile(dir, 1, 2, 2),
      '--output',
      join(dir, 'a'),
      '--gpus',
      'none',
    ]);
    assert.equal(none.code, 0, none.stderr);
    assert.deepEqual([...recordedDevices(join(dir, 'record.log')).values()], ['', '']);
    const dir2 = mkdtempSync(join(tmpdir(), 'kt-gpus-'));
    const listed = await runWithFakeGpus([
      studyFile(dir2, 1, 2, 2),
      '--output',
      join(dir2, 'a'),
      '--gpus',
      '1',
    ]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual([...recordedDevices(join(dir2, 'record.log')).values()], ['1', '1']);
    assert.deepEqual([...peakPerDevice(join(dir2, 'record.log')).entries()], [['1', 1]]);
  });
});
