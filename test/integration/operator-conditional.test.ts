// Conditional parameters on the real control plane: a trial whose epochs do not activate x has
// no x in its Trial, and its Job's args lack the optional --x item.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestNamespace } from './support/cluster.js';
import {
  createStudy,
  fakeTrainerTemplate,
  listTrials,
  operatorSuite,
  waitForStudyEnd,
} from './support/operator.js';

describe('operator conditional parameters on the real test cluster', () => {
  const suite = operatorSuite();

  it('leaves inactive parameters out of Trials and drops their ${params.X?} args from Jobs', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-cond');
    const op = suite.start(['--namespaces', ns]);
    await createStudy(suite.api, ns, 'cond', {
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: { name: 'grid' },
      parameters: [
        { name: 'epochs', type: 'categorical', values: ['1', '2'] },
        { name: 'x', type: 'double', min: 0, max: 1, step: 0.5, when: { parameter: 'epochs', in: ['1'] } },
      ],
      maxTrials: 10,
      parallelism: 2,
      maxFailedTrials: 10,
      trialTemplate: fakeTrainerTemplate(['--epochs=${params.epochs}', '--x=${params.x?}']),
    });
    const study = await waitForStudyEnd(suite.api, ns, 'cond', 120_000, op);
    assert.equal(
      study.status?.conditions?.find((c) => c.type === 'Succeeded')?.reason,
      'SearchSpaceExhausted',
      JSON.stringify(study.status?.conditions),
    );
    const trials = await listTrials(suite.api, ns, 'cond');
    // 1 epoch × x in {0, 0.5, 1}, and 2 epochs alone: 4 trials, no 2-epoch trial with an x.
    const params = trials
      .map((tr) => tr.spec.parameters)
      .sort(
        (a, b) => (a['epochs'] ?? '').localeCompare(b['epochs'] ?? '') || Number(a['x']) - Number(b['x']),
      );
    assert.deepEqual(params, [
      { epochs: '1', x: '0' },
      { epochs: '1', x: '0.5' },
      { epochs: '1', x: '1' },
      { epochs: '2' },
    ]);
    const jobs = await suite.c.batch.listNamespacedJob({ namespace: ns });
    const args = jobs.items.map((j) => j.spec?.template.spec?.containers[0]?.args ?? []).sort();
    assert.deepEqual(args, [
      ['--epochs=1', '--x=0'],
      ['--epochs=1', '--x=0.5'],
      ['--epochs=1', '--x=1'],
      ['--epochs=2'],
    ]);
  });
});
