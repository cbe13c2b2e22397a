import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { runCli } from '../../support/run-cli.js';

// A trainer with a real trade-off: f0 = x falls as f1 = (1 − x)² + y rises; mem = y is bounded.
const TRAINER =
  "const [x, y] = process.argv.slice(1).map(Number); console.log('epoch=1 f0=' + x + ' f1=' + ((1 - x) ** 2 + y) + ' mem=' + y);";

interface Results {
  paretoFront?: {
    objectives: string[];
    trials: { trial: string; index: number; values: number[]; parameters: Record<string, string> }[];
  };
  best?: unknown;
  trials: { index: number; state: string; metrics: Record<string, number> }[];
}

describe('kubetune run with several objectives and a constraint', () => {
  it('writes the feasible Pareto front to results.json and prints it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-mo-'));
    const file = join(dir, 'study.yaml');
    writeFileSync(
      file,
      stringify({
        apiVersion: 'kubetune.io/v1alpha1',
        kind: 'Study',
        metadata: { name: 'tradeoff' },
        spec: {
          objectives: [
            { metric: 'f0', goal: 'minimize' },
            { metric: 'f1', goal: 'minimize' },
          ],
          constraints: [{ metric: 'mem', max: 0.5 }],
          algorithm: { name: 'sobol' },
          maxTrials: 10,
          parallelism: 4,
          parameters: [
            { name: 'x', type: 'double', min: 0, max: 1 },
            { name: 'y', type: 'double', min: 0, max: 1 },
          ],
          trialTemplate: {
            spec: {
              template: {
                spec: {
                  containers: [
                    { name: 'train', command: ['node', '-e', TRAINER, '${params.x}', '${params.y}'] },
                  ],
                },
              },
            },
          },
        },
      }),
    );
    const res = await runCli(['run', file, '--output', join(dir, 'out')]);
    assert.equal(res.code, 0, res.stderr);
    const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as Results;
    assert.equal(results.trials.length, 10);
    assert.ok(results.trials.every((t) => t.state === 'Succeeded'));
    assert.equal(results.best, undefined, 'no single best trial with several objectives');

    // The front, worked out here from the reported metrics: feasible, and nobody is at least as
    // good on both objectives and better on one.
    const feasible = results.trials.filter((t) => t.metrics['mem']! <= 0.5);
    const beats = (a: Results['trials'][number], b: Results['trials'][number]) =>
      a.metrics['f0']! <= b.metrics['f0']! &&
      a.metrics['f1']! <= b.metrics['f1']! &&
      (a.metrics['f0']! < b.metrics['f0']! || a.metrics['f1']! < b.metrics['f1']!);
    const expected = feasible
      .filter((t) => !feasible.some((o) => beats(o, t)))
      .map((t) => t.index)
      .sort((a, b) => a - b);
    assert.ok(feasible.length < results.trials.length, 'some trial broke the constraint');
    assert.ok(expected.length >= 2, 'the trade-off gives a front of several trials');
    assert.deepEqual(results.paretoFront?.objectives, ['f0', 'f1']);
    assert.deepEqual(
      results.paretoFront?.trials.map((t) => t.index),
      expected,
    );
    for (const p of results.paretoFront!.trials) {
      const t = results.trials.find((r) => r.index === p.index)!;
      assert.deepEqual(p.values, [t.metrics['f0'], t.metrics['f1']]);
    }
    assert.match(res.stdout, new RegExp(`Pareto front: ${expected.length} trials`));
    const csv = readFileSync(join(dir, 'out', 'trials.csv'), 'utf8').split('\n')[0]!;
    assert.match(csv, /metric\.f0,metric\.f1,metric\.mem/);
  });
});
