import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { StudySpec } from '../../../src/api/study.js';
import { LocalRunner } from '../../../src/local/local-runner.js';
import { REPO_ROOT } from '../../support/run-cli.js';

const FAKE = join(REPO_ROOT, 'test/fixtures/fake-trainer.mjs');

function runner(): LocalRunner {
  const spec = StudySpec.parse({
    algorithm: { name: 'random' },
    objective: { metric: 'loss', goal: 'minimize' },
    maxTrials: 4,
    parallelism: 2,
    parameters: [{ name: 'x', type: 'double', min: 0, max: 1 }],
    trialTemplate: {
      spec: {
        template: { spec: { containers: [{ name: 't', command: ['node', FAKE, '--x', '${params.x}'] }] } },
      },
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'kt-runner-'));
  return new LocalRunner({ name: 'r', spec, cwd: REPO_ROOT, outputDir: dir });
}

describe('LocalRunner', () => {
  it('starts no trial once interrupted, even while the sampler was still suggesting', async () => {
    const r = runner();
    const run = r.run(); // now waiting for the sampler's suggestions
    r.interrupt();
    const result = await run;
    assert.equal(result.interrupted, true);
    assert.deepEqual(result.trials, []);
  });
});
