// The operator and `kubetune run` make the same ASHA decisions on the same curves. Trials print
// predetermined curves in bursts of several steps (test/fixtures/curve-trainer.mjs), so the
// operator receives a rung's step together with the steps around it, in one batched write,
// while the local runner judges line by line. One trial at a time, in grid order, so both
// runners judge each trial against the same finished trials.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { StudySpec } from '../../src/api/study.js';
import { LocalRunner } from '../../src/local/local-runner.js';
import { createTestNamespace, repoRoot } from './support/cluster.js';
import { createStudy, listTrials, operatorSuite, waitForStudyEnd } from './support/operator.js';

const CURVE_TRAINER = join(repoRoot, 'test/fixtures/curve-trainer.mjs');
const CURVES = ['a', 'b', 'c', 'd', 'e', 'f'];

function studySpec(image: string, hold: string[] = []): Record<string, unknown> {
  return {
    objective: { metric: 'loss', goal: 'minimize' },
    algorithm: { name: 'grid' },
    parameters: [{ name: 'curve', type: 'categorical', values: CURVES }],
    earlyStopping: { name: 'asha', settings: { minResource: 2, maxResource: 8, reductionFactor: 2 } },
    maxTrials: CURVES.length,
    parallelism: 1,
    seed: 1,
    trialTemplate: {
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: 'Never',
            terminationGracePeriodSeconds: 2,
            containers: [
              {
                name: 'train',
                image,
                command: ['node', CURVE_TRAINER],
                args: ['--curve=${params.curve}', `--hold=${hold.join(',')}`],
              },
            ],
          },
        },
      },
    },
  };
}

/** curve → how its trial ended: "Succeeded", or "Pruned at <step>: <reason>". */
type Decisions = Record<string, string>;

describe('pruning decisions: operator and local runner on the real test cluster', () => {
  const suite = operatorSuite();

  it('prunes the same trials at the same steps, for the same reasons, as kubetune run', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-decisions-'));
    const local = await new LocalRunner({
      name: 'decisions',
      spec: StudySpec.parse(studySpec('node:20')),
      cwd: dir,
      outputDir: dir,
    }).run();
    const localDecisions: Decisions = {};
    for (const trial of local.trials) {
      const curve = String(trial.params.curve);
      localDecisions[curve] =
        trial.state === 'Pruned' ? `Pruned at ${trial.prunedAtStep}: ${trial.message}` : trial.state;
    }

    const ns = await createTestNamespace(t, suite.c, 'op-decide');
    const op = suite.start(['--namespaces', ns]);
    // The curves kubetune run pruned never end on their own here: if the operator agrees, it
    // prunes them whenever it gets to it; if it does not, the study never ends and the test fails.
    const prunedLocally = local.trials
      .filter((tr) => tr.state === 'Pruned')
      .map((tr) => String(tr.params.curve));
    await createStudy(suite.api, ns, 'decisions', studySpec('node:20', prunedLocally));
    const study = await waitForStudyEnd(suite.api, ns, 'decisions', 180_000, op);
    assert.equal(study.status?.phase, 'Succeeded', JSON.stringify(study.status?.conditions));
    const operatorDecisions: Decisions = {};
    const trials = await listTrials(suite.api, ns, 'decisions');
    const seen = trials.map((tr) => `${tr.metadata.name}:${tr.spec.parameters.curve}:${tr.status?.state}`);
    assert.equal(trials.length, CURVES.length, `${seen.join(' ')}; study ${JSON.stringify(study.status)}`);
    for (const trial of trials) {
      const curve = trial.spec.parameters.curve as string;
      const s = trial.status;
      operatorDecisions[curve] =
        s?.state === 'Pruned' ? `Pruned at ${s.prunedAtStep}: ${s.message}` : String(s?.state);
    }

    assert.deepEqual(operatorDecisions, localDecisions);
    // The comparison means something only if rungs were judged inside a burst: a prune at
    // step 2 (first burst: steps 1-3) and one at step 4 (second burst: steps 4-6).
    const steps = Object.values(localDecisions).map((d) => /^Pruned at (\d+)/.exec(d)?.[1]);
    assert.ok(steps.includes('2') && steps.includes('4'), JSON.stringify(localDecisions));
  });
});
