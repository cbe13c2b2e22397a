// spec.budget.gpuHours on the real control plane: trials of 1 GPU that run about 3 s against a
// budget of 0.004 GPU-hours (14.4 GPU-seconds) end the study BudgetExhausted after a few trials.
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

describe('operator budgets on the real test cluster', () => {
  const suite = operatorSuite();

  it('ends a study BudgetExhausted within one trial of budget.gpuHours, and says why', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-budget');
    const op = suite.start(['--namespaces', ns]);
    const gpuHours = 0.004;
    await createStudy(suite.api, ns, 'gpu-budget', {
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: { name: 'random' },
      parameters: [{ name: 'x', type: 'double', min: 0, max: 1 }],
      maxTrials: 50,
      parallelism: 1,
      budget: { gpuHours },
      trialTemplate: fakeTrainerTemplate(['--x=${params.x}', '--epochs=3', '--sleep-ms=1000'], {
        resources: { limits: { 'nvidia.com/gpu': '1' } },
      }),
    });
    const study = await waitForStudyEnd(suite.api, ns, 'gpu-budget', 240_000, op);
    const trials = await listTrials(suite.api, ns, 'gpu-budget');
    const perTrial = trials.map((tr) => {
      const s = tr.status;
      return s?.startTime && s.completionTime
        ? (Date.parse(s.completionTime) - Date.parse(s.startTime)) / 3600_000
        : 0;
    });
    const used = study.status?.usage?.gpuHours ?? NaN;
    assert.equal(study.status?.phase, 'Succeeded', JSON.stringify(study.status?.conditions));
    const succeeded = study.status?.conditions?.find((c) => c.type === 'Succeeded');
    assert.equal(succeeded?.reason, 'BudgetExhausted');
    assert.match(succeeded?.message ?? '', /budget\.gpuHours spent: [0-9.e-]+ of 0\.004 GPU-hours used/);
    assert.ok(trials.length < 50, `${trials.length} trials: the budget, not maxTrials, ended the study`);
    assert.ok(
      used <= gpuHours + Math.max(...perTrial),
      `used ${used} GPU-hours, trials ${perTrial.join(', ')}`,
    );
    assert.ok(
      Math.abs(used - perTrial.reduce((a, b) => a + b, 0)) < 1e-4,
      'usage is the sum over the trials',
    );
  });
});
