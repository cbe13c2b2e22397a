// JobSet trials end to end: the operator runs examples/pytorch-distributed/jobset.yaml (two pods
// per trial training one model with torch.distributed) on the test cluster's real JobSet
// controller, reads the metrics from rank 0, and a pruned trial loses every one of its pods.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { createTestNamespace, repoRoot, waitFor } from './support/cluster.js';
import { JOBSET_NAME_LABEL } from './support/jobset.js';
import { createStudy, listTrials, operatorSuite, waitForStudyEnd } from './support/operator.js';

const PYTHON = '/usr/bin/python3';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Container {
  args: string[];
  env: { name: string; value?: string }[];
}

/** The example Study, made small: two trials in grid order, a good learning rate and a hopeless one. */
async function exampleSpec(): Promise<Record<string, unknown>> {
  type PodTemplate = { spec: { containers: Container[] } };
  type ReplicatedJob = { template: { spec: { template: PodTemplate } } };
  const manifest = parse(
    readFileSync(join(repoRoot, 'examples/pytorch-distributed/jobset.yaml'), 'utf8'),
  ) as {
    spec: Record<string, unknown> & { trialTemplate: { spec: { replicatedJobs: ReplicatedJob[] } } };
  };
  const spec = manifest.spec;
  const container = spec.trialTemplate.spec.replicatedJobs[0]!.template.spec.template.spec.containers[0]!;
  container.args = [
    '--epochs=8',
    '--train-size=600',
    '--val-size=200',
    '--lr=${params.lr}',
    '--momentum=${params.momentum}',
    '--hidden=${params.hidden}',
    '--seed=42',
  ];
  // Pods share the host's ports on procnode; trials run one at a time, so one free port serves.
  const port = await freePort();
  container.env = container.env.map((e) => (e.name === 'MASTER_PORT' ? { ...e, value: String(port) } : e));
  return {
    ...spec,
    algorithm: { name: 'grid', settings: { shuffle: false } },
    parameters: [
      // 1e-5 barely moves the weights: at the first rung it is far behind 0.1, so ASHA prunes it.
      { name: 'lr', type: 'categorical', values: ['0.1', '0.00001'] },
      { name: 'momentum', type: 'categorical', values: ['0.9'] },
      { name: 'hidden', type: 'categorical', values: ['32'] },
    ],
    maxTrials: 2,
    parallelism: 1,
    earlyStopping: { name: 'asha', settings: { minResource: 1, maxResource: 8, reductionFactor: 2 } },
  };
}

describe('operator with JobSet trials on the real test cluster', () => {
  const suite = operatorSuite();

  it('runs 2-pod distributed PyTorch trials with metrics from rank 0, and pruning removes every pod', async (t) => {
    try {
      execFileSync(PYTHON, ['-c', 'import torch.distributed'], { stdio: 'pipe' });
    } catch {
      throw new Error(
        `${PYTHON} cannot import torch: install python3-torch (bash scripts/ensure-test-deps.sh)`,
      );
    }
    const ns = await createTestNamespace(t, suite.c, 'op-jobset');
    const op = suite.start([
      '--namespaces',
      ns,
      '--trial-kinds',
      'batch/v1/Job,jobset.x-k8s.io/v1alpha2/JobSet',
    ]);
    await createStudy(suite.api, ns, 'ddp', await exampleSpec());
    const study = await waitForStudyEnd(suite.api, ns, 'ddp', 600_000, op);
    const trials = (await listTrials(suite.api, ns, 'ddp')).sort((a, b) => a.spec.index - b.spec.index);
    assert.equal(study.status?.phase, 'Succeeded', JSON.stringify(trials.map((tr) => tr.status)));
    assert.deepEqual(
      trials.map((tr) => [tr.spec.parameters['lr'], tr.status?.state]),
      [
        ['0.1', 'Succeeded'],
        ['0.00001', 'Pruned'],
      ],
    );
    const [good, pruned] = trials as [(typeof trials)[0], (typeof trials)[0]];
    // Rank 0's lines, one per epoch: the whole curve of the finished trial.
    assert.deepEqual(
      (good.status?.intermediate ?? []).map((p) => p.step),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.ok((good.status?.objective ?? 0) > 0.5, `val_accuracy ${good.status?.objective}`);
    assert.equal(typeof good.status?.metrics?.['val_loss'], 'number');
    assert.equal(pruned.status?.prunedAtStep, 1);
    // The pruned trial's JobSet is deleted with its Jobs and both pods.
    await waitFor(
      async () =>
        (
          await suite.c.core.listNamespacedPod({
            namespace: ns,
            labelSelector: `${JOBSET_NAME_LABEL}=${pruned.metadata.name}`,
          })
        ).items.length === 0 || undefined,
      120_000,
      'the pruned trial to lose all its pods',
      500,
    );
  });
});
