// `kubetune run --prior RESULTS.json`: an earlier run's finished trials seed the sampler and are
// reported apart from the new run's trials.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { REPO_ROOT, runCli } from '../../support/run-cli.js';

const FAKE = join(REPO_ROOT, 'test/fixtures/fake-trainer.mjs');

function studyFile(dir: string, file: string, spec: Record<string, unknown>): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    stringify({
      apiVersion: 'kubetune.io/v1alpha1',
      kind: 'Study',
      metadata: { name: 'warm' },
      spec: {
        objective: { metric: 'loss', goal: 'minimize' },
        algorithm: { name: 'tpe', settings: { nStartup: 2 } },
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
                    args: ['--x', '${params.x}', '--y', '${params.y}', '--epochs', '1'],
                  },
                ],
              },
            },
          },
        },
        ...spec,
      },
    }),
  );
  return path;
}

interface Results {
  trials: { index: number; state: string }[];
  priors: { params: Record<string, string>; state: string; value?: number; source: string }[];
}

describe('kubetune run --prior', () => {
  it("feeds an earlier run's finished trials to the sampler and lists them apart", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-prior-'));
    const first = await runCli([
      'run',
      studyFile(dir, 'a.yaml', { maxTrials: 4, algorithm: { name: 'sobol' } }),
      '--output',
      join(dir, 'a'),
    ]);
    assert.equal(first.code, 0, first.stderr);
    const earlier = JSON.parse(readFileSync(join(dir, 'a', 'results.json'), 'utf8')) as {
      trials: { formattedParams: Record<string, string>; value: number }[];
    };

    const prior = join(dir, 'a', 'results.json');
    const second = await runCli([
      'run',
      studyFile(dir, 'b.yaml', { maxTrials: 3 }),
      '--output',
      join(dir, 'b'),
      '--prior',
      prior,
    ]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /warm start: 4 prior trials fed the sampler/);
    const got = JSON.parse(readFileSync(join(dir, 'b', 'results.json'), 'utf8')) as Results;
    assert.deepEqual(
      got.trials.map((t) => t.index),
      [0, 1, 2],
      'priors do not count toward maxTrials',
    );
    assert.deepEqual(
      got.priors,
      earlier.trials.map((t) => ({
        params: t.formattedParams,
        state: 'Succeeded',
        value: t.value,
        source: prior,
      })),
    );
    // A resume of the warm run sees the same priors: they are in its journal.
    const header = JSON.parse(
      readFileSync(join(dir, 'b', 'journal.jsonl'), 'utf8').split('\n')[0]!,
    ) as Results;
    assert.deepEqual(header.priors, got.priors);
  });

  it('refuses results of another search space', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-prior-bad-'));
    const first = await runCli([
      'run',
      studyFile(dir, 'a.yaml', { maxTrials: 1 }),
      '--output',
      join(dir, 'a'),
    ]);
    assert.equal(first.code, 0, first.stderr);
    const other = studyFile(dir, 'b.yaml', {
      maxTrials: 1,
      parameters: [
        { name: 'x', type: 'double', min: 0, max: 2 },
        { name: 'y', type: 'double', min: 0, max: 1 },
      ],
    });
    const res = await runCli([
      'run',
      other,
      '--output',
      join(dir, 'b'),
      '--prior',
      join(dir, 'a', 'results.json'),
    ]);
    assert.equal(res.code, 2);
    assert.match(
      res.stderr,
      /--prior .*results\.json: its study searched other parameters; priors must come from the same spec\.parameters/,
    );
  });
});
