import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestNamespace } from './support/cluster.js';
import { createStudy, listTrials, operatorSuite, waitForStudyEnd } from './support/operator.js';

describe('operator with metrics.source prometheus', () => {
  const suite = operatorSuite();

  it("scrapes each trial pod's own endpoint on its pod IP", async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-prom');
    const op = suite.start(['--namespaces', ns]);
    await createStudy(suite.api, ns, 'scraped', {
      objective: { metric: 'val_accuracy', goal: 'maximize', additionalMetrics: ['val_loss'] },
      algorithm: { name: 'sobol' },
      parameters: [{ name: 'learning_rate', type: 'double', min: 1e-3, max: 0.05, log: true }],
      maxTrials: 2,
      parallelism: 2,
      metrics: {
        source: 'prometheus',
        stepKeys: ['epoch'],
        prometheus: {
          mode: 'scrape',
          port: 9100,
          path: '/metrics',
          intervalSeconds: 0.5,
          metricPrefix: 'kubetune_trainer_',
        },
      },
      trialTemplate: {
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: 'trainer',
                  image: 'ghcr.io/kubetune/trainer:0.1.0',
                  // The pod's stdout carries no metrics the operator reads here: only the endpoint does.
                  args: [
                    '--epochs=3',
                    '--train-size=800',
                    '--learning-rate=${params.learning_rate}',
                    '--metrics-port=9100',
                    '--metrics-linger-seconds=3',
                  ],
                  env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
                },
              ],
            },
          },
        },
      },
    });
    const study = await waitForStudyEnd(suite.api, ns, 'scraped', 180_000, op);
    const trials = await listTrials(suite.api, ns, 'scraped');
    assert.equal(study.status?.phase, 'Succeeded', JSON.stringify(trials.map((tr) => tr.status)));
    for (const trial of trials) {
      assert.equal(trial.status?.state, 'Succeeded', `${trial.metadata.name}: ${trial.status?.message}`);
      const steps = (trial.status?.intermediate ?? []).map((p) => p.step);
      assert.ok(steps.length >= 2 && steps.every((s, i) => i === 0 || s > steps[i - 1]!), `steps ${steps}`);
      assert.ok((trial.status?.objective ?? 0) > 0.1);
      assert.ok(typeof trial.status?.metrics?.['val_loss'] === 'number');
    }
  });
});
