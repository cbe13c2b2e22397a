import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { REPO_ROOT, runCli } from '../../support/run-cli.js';

const FAKE = join(REPO_ROOT, 'test/fixtures/fake-trainer.mjs');

interface Results {
  outcome: { done: boolean; succeeded: boolean; reason: string };
  best?: { trial: string; index: number; value: number };
  trials: {
    index: number;
    state: string;
    reason?: string;
    message?: string;
    prunedAtStep?: number;
    value?: number;
    intermediate: { step: number; value: number }[];
  }[];
}

describe('kubetune run with early stopping (local processes)', () => {
  it('asha stops poor trials, records them as Pruned with step and reason, and the study succeeds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-asha-'));
    const epochs = 9;
    const manifest = {
      apiVersion: 'kubetune.io/v1alpha1',
      kind: 'Study',
      metadata: { name: 'asha' },
      spec: {
        objective: { metric: 'loss', goal: 'minimize' },
        algorithm: { name: 'random' },
        earlyStopping: { name: 'asha', settings: { maxResource: epochs } },
        maxTrials: 9,
        parallelism: 3,
        seed: 7,
        parameters: [
          { name: 'x', type: 'double', min: 0, max: 1 },
          { name: 'y', type: 'double', min: 0, max: 1 },
        ],
        trialTemplate: {
          spec: {
            template: {
              spec: {
                containers: [
                  {
                    name: 'train',
                    command: ['node', FAKE],
                    args: [
                      '--x',
                      '${params.x}',
                      '--y',
                      '${params.y}',
                      '--epochs',
                      `${epochs}`,
                      '--sleep-ms',
                      '60',
                    ],
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
    const res = await runCli(['run', file, '--output', join(dir, 'out')], { timeoutMs: 90000 });
    assert.equal(res.code, 0, res.stderr);
    const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as Results;
    assert.equal(results.trials.length, 9);
    assert.equal(results.outcome.succeeded, true);
    assert.equal(results.outcome.reason, 'MaxTrialsReached');

    const pruned = results.trials.filter((t) => t.state === 'Pruned');
    const succeeded = results.trials.filter((t) => t.state === 'Succeeded');
    assert.ok(pruned.length >= 1, `expected some pruned trials: ${JSON.stringify(results.trials)}`);
    assert.ok(succeeded.length >= 1);
    for (const t of pruned) {
      assert.equal(t.reason, 'Pruned');
      assert.match(
        t.message!,
        /^asha: at rung \d \(step (1|3)\) value .* ranks \d+ of \d+; only the top \d+/,
      );
      assert.ok(t.prunedAtStep !== undefined && t.prunedAtStep < epochs, `prunedAtStep ${t.prunedAtStep}`);
      // Its intermediate values stay on record (samplers may use them as low-fidelity evidence).
      assert.ok(t.intermediate.some((p) => p.step === t.prunedAtStep));
      assert.ok(t.intermediate.length < epochs);
    }
    for (const t of succeeded) assert.equal(t.intermediate.length, epochs);
    // The best trial is a finished one (pruned trials do not count unless opted in).
    const best = results.trials.find((t) => t.index === results.best!.index)!;
    assert.equal(best.state, 'Succeeded');
    assert.equal(results.best!.value, Math.min(...succeeded.map((t) => t.value!)));
  });

  it('accepts the ASHA example', async () => {
    const res = await runCli(['validate', 'examples/asha-local.yaml']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /valid Study mnist-asha/);
  });

  it('rejects bad early-stopping settings with the field path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-asha-bad-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      readFileSync(join(REPO_ROOT, 'examples/asha-local.yaml'), 'utf8')
        .replace('name: asha', 'name: hyperband')
        .replace(/ {6}maxResource: 9.*\n/, ''),
    );
    const res = await runCli(['validate', file]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /spec\.earlyStopping\.settings\.maxResource: hyperband needs maxResource/);
  });
});
