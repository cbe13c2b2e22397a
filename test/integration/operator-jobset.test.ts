// JobSet trials end to end: the operator runs examples/pytorch-distributed/jobset.yaml (two pods
// per trial training one model with torch.distributed) on the test cluster's real JobSet
// controller, reads the metrics from rank 0, and a pruned trial loses every one of its pods.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { createTestNamespace, freePort, repoRoot, waitFor } from './support/cluster.js';
import { JOBSET_NAME_LABEL } from './support/jobset.js';
import { Rng } from '../../src/engine/rng.js';
import {
  chaosSeed,
  createStudy,
  FAKE_TRAINER,
  listTrials,
  operatorSuite,
  waitForStudyEnd,
} from './support/operator.js';

const PYTHON = '/usr/bin/python3';
const JOBSET_KINDS = ['--trial-kinds', 'batch/v1/Job,jobset.x-k8s.io/v1alpha2/JobSet'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A JobSet trial of `replicas` one-pod Jobs, each running the fake trainer with `args`. */
function fakeJobSetTemplate(args: string[], replicas = 2): Record<string, unknown> {
  return {
    apiVersion: 'jobset.x-k8s.io/v1alpha2',
    kind: 'JobSet',
    spec: {
      failurePolicy: { maxRestarts: 0 },
      replicatedJobs: [
        {
          name: 'workers',
          replicas,
          template: {
            spec: {
              backoffLimit: 0,
              template: {
                spec: {
                  restartPolicy: 'Never',
                  terminationGracePeriodSeconds: 2,
                  containers: [{ name: 'train', image: 'node:20', command: ['node', FAKE_TRAINER], args }],
                },
              },
            },
          },
        },
      ],
    },
  };
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

  it('survives SIGKILL at random points with JobSet trials: exactly maxTrials, no duplicate or orphaned workloads', async (t) => {
    const seed = chaosSeed();
    t.diagnostic(`chaos seed ${seed}: replay the same kill times with KUBETUNE_CHAOS_SEED=${seed}`);
    const ns = await createTestNamespace(t, suite.c, 'op-js-crash');
    const args = ['--namespaces', ns, ...JOBSET_KINDS];
    let op = suite.start(args);
    const maxTrials = 8;
    await createStudy(suite.api, ns, 'crashy', {
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: { name: 'random' },
      parameters: [
        { name: 'x', type: 'double', min: 0, max: 1 },
        { name: 'y', type: 'double', min: 0, max: 1 },
      ],
      maxTrials,
      parallelism: 2,
      seed: 5,
      trialTemplate: fakeJobSetTemplate([
        '--x=${params.x}',
        '--y=${params.y}',
        '--epochs=3',
        '--sleep-ms=300',
      ]),
    });
    const rng = new Rng(seed);
    for (let kills = 0; kills < 5; kills++) {
      await sleep(400 + rng.int(1600));
      await op.kill('SIGKILL');
      op = suite.start(args);
    }
    const study = await waitForStudyEnd(suite.api, ns, 'crashy', 300_000, op);
    assert.equal(study.status?.phase, 'Succeeded', JSON.stringify(study.status));
    const trials = await listTrials(suite.api, ns, 'crashy');
    assert.deepEqual(
      trials.map((tr) => tr.spec.index).sort((a, b) => a - b),
      [...Array(maxTrials).keys()],
    );
    assert.ok(
      trials.every((tr) => tr.status?.state === 'Succeeded'),
      trials.map((tr) => `${tr.metadata.name}:${tr.status?.state}:${tr.status?.message}`).join('\n'),
    );
    assert.equal(new Set(trials.map((tr) => JSON.stringify(tr.spec.parameters))).size, maxTrials);
    // One JobSet per trial, owned by it; every Job belongs to one of those JobSets.
    const jobSets = (
      (await suite.api.listNamespacedCustomObject({
        group: 'jobset.x-k8s.io',
        version: 'v1alpha2',
        namespace: ns,
        plural: 'jobsets',
      })) as { items: { metadata: { name: string; uid: string; ownerReferences?: { uid: string }[] } }[] }
    ).items;
    const trialUids = new Set(trials.map((tr) => tr.metadata.uid));
    assert.equal(jobSets.length, maxTrials);
    for (const js of jobSets)
      assert.ok(
        trialUids.has(js.metadata.ownerReferences?.[0]?.uid ?? ''),
        `orphaned JobSet ${js.metadata.name}`,
      );
    const jobSetUids = new Set(jobSets.map((js) => js.metadata.uid));
    for (const job of (await suite.c.batch.listNamespacedJob({ namespace: ns })).items)
      assert.ok(
        jobSetUids.has(job.metadata?.ownerReferences?.[0]?.uid ?? ''),
        `orphaned Job ${job.metadata?.name}`,
      );
  });
});
