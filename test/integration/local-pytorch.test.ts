import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { createInterface } from 'node:readline';
import { parse, stringify } from 'yaml';
import { REPO_ROOT, runCli } from '../support/run-cli.js';
import { torchPython } from '../support/torch-python.js';

const TRAIN = 'examples/pytorch/train.py';
// A small slice of the digits, so four trials train in seconds on a busy 2-core machine.
const SMALL = ['--train-size=1200', '--val-size=400', '--threads=1'];

interface Results {
  outcome: { done: boolean; succeeded: boolean; message: string };
  best?: { trial: string; value: number };
  trials: {
    name: string;
    state: string;
    reason?: string;
    message?: string;
    prunedAtStep?: number;
    devices?: string[];
    metrics: Record<string, number>;
    intermediate: { step: number; value: number }[];
  }[];
}

interface Manifest {
  spec: {
    maxTrials: number;
    parallelism: number;
    earlyStopping: { settings: Record<string, number> };
    trialTemplate: {
      spec: { template: { spec: { containers: { command: string[]; args: string[] }[] } } };
    };
  };
}

/** examples/pytorch/study.yaml as shipped, made small: 4 trials of 2 epochs, with `python`. */
function smallStudy(dir: string, python: string): string {
  const manifest = parse(readFileSync(join(REPO_ROOT, 'examples/pytorch/study.yaml'), 'utf8')) as Manifest;
  const { spec } = manifest;
  spec.maxTrials = 4;
  spec.parallelism = 2;
  spec.earlyStopping.settings = { minResource: 1, maxResource: 2, reductionFactor: 2 };
  const [container] = spec.trialTemplate.spec.template.spec.containers;
  assert.deepEqual(container!.command, ['python3', TRAIN], 'the example runs train.py with python3');
  container!.command = [python, TRAIN];
  assert.ok(container!.args.includes('--epochs=9'));
  container!.args = [...container!.args.map((a) => (a === '--epochs=9' ? '--epochs=2' : a)), ...SMALL];
  const file = join(dir, 'study.yaml');
  writeFileSync(file, stringify(manifest));
  return file;
}

/** Epoch lines without the wall-clock field, which is the only part allowed to differ. */
function epochLines(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('epoch='))
    .map((l) => l.replace(/ epoch_seconds=\S+/, ''));
}

function train(python: string, args: string[]) {
  const res = spawnSync(python, [TRAIN, ...SMALL, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.equal(res.status, 0, res.stderr);
  return res;
}

/** Starts train.py and SIGKILLs it as soon as it has printed its first epoch line. */
function trainUntilFirstEpoch(python: string, args: string[]): Promise<string> {
  const child = spawn(python, [TRAIN, ...SMALL, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve) => {
    const lines: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (line.startsWith('epoch=')) child.kill('SIGKILL');
    });
    child.on('close', () => resolve(lines.join('\n')));
  });
}

describe('examples/pytorch on CPU (Debian python3-torch)', () => {
  let python: string;
  before(() => {
    python = torchPython();
  });

  it('runs a 4-trial bayesian + ASHA study through kubetune run and records real results', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-pytorch-'));
    const out = join(dir, 'out');
    const res = await runCli(['run', smallStudy(dir, python), '--output', out, '--gpus', 'none'], {
      timeoutMs: 300_000,
    });
    assert.equal(res.code, 0, res.stderr);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
    assert.equal(results.trials.length, 4);
    assert.ok(results.outcome.succeeded, results.outcome.message);
    const summary = results.trials.map((t) => `${t.name}:${t.state}:${t.message ?? ''}`).join('\n');
    for (const t of results.trials) {
      assert.ok(['Succeeded', 'Pruned'].includes(t.state), summary);
      assert.deepEqual(t.devices, [], `${t.name} ran without a GPU under --gpus none`);
      assert.ok(existsSync(join(out, 'checkpoints', t.name, 'checkpoint.pt')), `${t.name} checkpointed`);
      if (t.state === 'Pruned') {
        // ASHA as configured: its only rung is epoch 1, so a pruned trial stops right there.
        assert.equal(t.reason, 'Pruned');
        assert.equal(t.prunedAtStep, 1);
        assert.match(t.message ?? '', /^asha: at rung 0 \(step 1\)/);
      } else {
        assert.deepEqual(
          t.intermediate.map((v) => v.step),
          [1, 2],
        );
        assert.ok(Number.isFinite(t.metrics['val_loss']), `${t.name} val_loss ${t.metrics['val_loss']}`);
        assert.ok(t.metrics['val_accuracy']! >= 0 && t.metrics['val_accuracy']! <= 1);
      }
    }
    assert.ok(
      results.trials.some((t) => t.state === 'Succeeded'),
      summary,
    );
    // Ten classes: chance is 0.1. A CNN trained on 1,200 digits for 2 epochs does far better.
    assert.ok(results.best && results.best.value > 0.6, `best ${JSON.stringify(results.best)}\n${summary}`);
  });

  it('continues a killed trial from its last checkpoint and ends as an uninterrupted run would', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-pytorch-ckpt-'));
    const flags = ['--epochs=3', '--lr=0.003', '--batch-size=64', '--seed=5', '--channels=8'];
    const killedOutput = await trainUntilFirstEpoch(python, [...flags, `--checkpoint-dir=${dir}`]);
    assert.equal(epochLines(killedOutput).length, 1, killedOutput);

    const resumed = train(python, [...flags, `--checkpoint-dir=${dir}`]);
    const saved = /resumed from \S+ after epoch (\d+)/.exec(resumed.stderr);
    assert.ok(saved, `did not resume: ${resumed.stderr}`);
    assert.ok(Number(saved[1]) >= 1 && Number(saved[1]) <= 3);
    const reference = train(python, flags);
    assert.deepEqual(epochLines(resumed.stdout), epochLines(reference.stdout));
    assert.equal(epochLines(reference.stdout).length, 3);

    // The same directory with other hyperparameters is another trial's: it starts afresh.
    const other = train(python, [
      '--epochs=1',
      '--lr=0.01',
      '--seed=5',
      '--channels=8',
      `--checkpoint-dir=${dir}`,
    ]);
    assert.match(other.stderr, /ignoring \S+: saved with other flags/);
    assert.equal(epochLines(other.stdout).length, 1);
  });
});
