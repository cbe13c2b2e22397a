import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createTestNamespace, repoRoot } from './support/cluster.js';
import { createStudy, listTrials, operatorSuite, waitForStudyEnd } from './support/operator.js';

// Epochs move on only when scraped, so every one is seen however fast or slow the machine is.
const EXPORTER = join(repoRoot, 'test/fixtures/stepped-exporter.mjs');
const EPOCHS = 3;

describe('operator with metrics.source prometheus', () => {
  const suite = operatorSuite();

  it("scrapes each trial pod's own endpoint on its pod IP", async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-prom');
    const op = suite.start(['--namespaces', ns]);
    await createStudy(suite.api, ns, 'scraped', {
      objective: { metric: 'val_accuracy', goal: 'maximize', additionalMetrics: ['val_loss'] },
      algorithm: { name: 'grid' },
      parameters: [{ name: 'curve', type: 'categorical', values: ['steady', 'better'] }],
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
          metricPrefix: 'kubetune_demo_',
        },
      },
      trialTemplate: {
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: 'train',
                  image: 'node:20',
                  // The pod's stdout carries no metrics: only the endpoint does.
                  command: ['node', EXPORTER],
                  args: [
                    '--curve=${params.curve}',
                    `--epochs=${EPOCHS}`,
                    '--port=9100',
                    '--prefix=kubetune_demo_',
                    '--advance-on-scrape',
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
      assert.deepEqual(steps, [1, 2, 3], trial.metadata.name);
      // The last epoch's values, as the exporter computes them for the trial's curve.
      const floor = trial.spec.parameters['curve'] === 'better' ? 0.2 : 0.5;
      const lastLoss = floor + 0.4 / EPOCHS + 0.05;
      assert.ok(Math.abs((trial.status?.objective ?? 0) - (1 - lastLoss / 2)) < 1e-9);
      assert.ok(typeof trial.status?.metrics?.['val_loss'] === 'number');
    }
  });
});
