// The operator queueing trials through Kueue on the real test control plane (Kueue included,
// test/cluster/kueue.sh). Each trial waits for a file the test creates, so the test, not the
// clock, decides when a trial ends: nothing here depends on how fast anything runs.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { TrialObject } from '../../src/operator/kube/resources.js';
import { createTestNamespace, waitFor } from './support/cluster.js';
import { gateDir, gatedStudy, jobFinished, openGate } from './support/gated-trials.js';
import {
  PRIORITY_CLASS_LABEL,
  QUEUE_LABEL,
  createQueues,
  createWorkloadPriorityClass,
} from './support/kueue.js';
import { getStudy, listTrials, operatorSuite, createStudy, waitForStudyEnd } from './support/operator.js';

const GPU = 'nvidia.com/gpu';
const WAIT_MS = 180_000;

const state = (t: TrialObject) => t.status?.state ?? 'Pending';

function assertSameParamsResult(trials: TrialObject[]): void {
  for (const t of trials) {
    assert.equal(
      t.status?.state,
      'Succeeded',
      `${t.metadata.name}: ${t.status?.reason}: ${t.status?.message}`,
    );
    // The trial printed its own parameter: the run that finished used the Trial's parameters.
    assert.equal(t.status?.objective, Number(t.spec.parameters.x), t.metadata.name);
  }
}

describe('operator with Kueue on the real test cluster', () => {
  const suite = operatorSuite();

  it('runs at most the ClusterQueue GPU quota at once; the rest are Queued; the study completes with exactly maxTrials', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-kueue');
    const queues = await createQueues(t, suite.c, ns, { quota: { [GPU]: '2' } });
    const dir = gateDir(t);
    const maxTrials = 5;
    await createStudy(
      suite.api,
      ns,
      'queued',
      gatedStudy(dir, { maxTrials, parallelism: 4, queueName: queues.localQueue }),
    );
    const op = suite.start(['--namespaces', ns]);
    let mostRunning = 0;
    let sawQueued = false;
    const queuedReasons = new Set<string>();
    await waitFor(
      async () => {
        const trials = await listTrials(suite.api, ns, 'queued');
        const running = trials.filter((x) => state(x) === 'Running');
        const queued = trials.filter((x) => state(x) === 'Queued');
        // Counted from one Job list, a consistent snapshot: Kueue lets a Job run by unsuspending
        // it, and admits the next only after a running one has finished.
        const jobs = await suite.c.batch.listNamespacedJob({ namespace: ns });
        mostRunning = Math.max(
          mostRunning,
          jobs.items.filter((j) => j.spec?.suspend === false && !jobFinished(j)).length,
        );
        if (queued.length > 0) sawQueued = true;
        for (const q of queued) queuedReasons.add(`${q.status?.reason}: ${q.status?.message}`);
        // Let one trial end only while the quota is full, so the queue is always exercised.
        if (running.length === 2 || (running.length > 0 && trials.length === maxTrials))
          openGate(dir, running[0]!.metadata.name);
        const study = await getStudy(suite.api, ns, 'queued');
        return study.status?.phase === 'Succeeded' || study.status?.phase === 'Failed' ? study : undefined;
      },
      WAIT_MS,
      'the queued study to finish',
      200,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${op.output().split('\n').slice(-30).join('\n')}`);
    });
    const trials = await listTrials(suite.api, ns, 'queued');
    assert.equal(trials.length, maxTrials);
    assertSameParamsResult(trials);
    assert.ok(mostRunning <= 2, `${mostRunning} trials ran at once with a quota of 2 GPUs`);
    assert.ok(sawQueued, 'no trial was ever seen Queued');
    assert.ok(
      [...queuedReasons].some((r) => /quota/i.test(r)),
      `no Queued trial showed Kueue's quota reason: ${[...queuedReasons].join(' | ')}`,
    );
    const jobs = await suite.c.batch.listNamespacedJob({ namespace: ns });
    assert.ok(jobs.items.every((j) => j.metadata?.labels?.[QUEUE_LABEL] === queues.localQueue));
    const study = await getStudy(suite.api, ns, 'queued');
    assert.equal(study.status?.phase, 'Succeeded', JSON.stringify(study.status?.conditions));
  });

  it('re-runs a trial that Kueue preempts, with the same parameters and attempts >= 2; the study still completes with exactly maxTrials', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-preempt');
    const queues = await createQueues(t, suite.c, ns, {
      quota: { [GPU]: '1' },
      withinClusterQueue: 'LowerPriority',
    });
    const low = await createWorkloadPriorityClass(t, suite.c, 100);
    const high = await createWorkloadPriorityClass(t, suite.c, 1000);
    const dir = gateDir(t);
    await createStudy(
      suite.api,
      ns,
      'preempted',
      gatedStudy(dir, { maxTrials: 2, parallelism: 1, queueName: queues.localQueue, priorityClassName: low }),
    );
    const op = suite.start(['--namespaces', ns]);
    const trial0 = async () => (await listTrials(suite.api, ns, 'preempted')).find((x) => x.spec.index === 0);
    const first = await waitFor(
      async () => {
        const x = await trial0();
        return x && state(x) === 'Running' ? x : undefined;
      },
      WAIT_MS,
      'trial 0 running',
    );

    // A higher-priority Job needs the only GPU: Kueue evicts trial 0.
    const gate = join(dir, 'urgent');
    await suite.c.batch.createNamespacedJob({
      namespace: ns,
      body: {
        metadata: {
          name: 'urgent',
          labels: { [QUEUE_LABEL]: queues.localQueue, [PRIORITY_CLASS_LABEL]: high },
        },
        spec: {
          suspend: true,
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              terminationGracePeriodSeconds: 2,
              containers: [
                {
                  name: 'main',
                  image: 'kubetune.test/shell',
                  args: [`until [ -e ${gate} ]; do sleep 0.1; done`],
                  resources: { requests: { [GPU]: '1' }, limits: { [GPU]: '1' } },
                },
              ],
            },
          },
        },
      },
    });
    const requeued = await waitFor(
      async () => {
        const x = await trial0();
        return x && state(x) === 'Queued' && (x.status?.attempts ?? 1) >= 2 ? x : undefined;
      },
      WAIT_MS,
      'trial 0 preempted back to Queued with attempts 2',
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${op.output().split('\n').slice(-30).join('\n')}`);
    });
    assert.deepEqual(requeued.spec.parameters, first.spec.parameters);
    writeFileSync(gate, '');
    await waitFor(
      async () => {
        const x = await trial0();
        return x && state(x) === 'Running' && x.status?.podName !== first.status?.podName ? x : undefined;
      },
      WAIT_MS,
      'trial 0 running again in a new pod',
    );
    openGate(dir, first.metadata.name);
    const second = await waitFor(
      async () => {
        const x = (await listTrials(suite.api, ns, 'preempted')).find((y) => y.spec.index === 1);
        return x && state(x) === 'Running' ? x : undefined;
      },
      WAIT_MS,
      'trial 1 running',
    );
    openGate(dir, second.metadata.name);
    const study = await waitForStudyEnd(suite.api, ns, 'preempted', WAIT_MS, op);
    assert.equal(study.status?.phase, 'Succeeded', JSON.stringify(study.status?.conditions));
    const trials = await listTrials(suite.api, ns, 'preempted');
    assert.equal(trials.length, 2);
    assertSameParamsResult(trials);
    assert.ok((trials[0]!.status?.attempts ?? 1) >= 2, `attempts: ${trials[0]!.status?.attempts}`);
    assert.equal(study.status?.trials?.failed, 0);
  });
});
