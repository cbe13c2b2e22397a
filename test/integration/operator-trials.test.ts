// How the operator treats trials when things around them change: the operator-wide cap with
// several workers, a Job deleted from under a running trial, a Job that retries its pod.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Watch } from '@kubernetes/client-node';
import type { TrialObject } from '../../src/operator/kube/resources.js';
import { createTestNamespace, waitFor } from './support/cluster.js';
import {
  createStudy,
  FAKE_TRAINER,
  fakeTrainerTemplate,
  GROUP,
  listTrials,
  operatorSuite,
  VERSION,
  waitForStudyEnd,
} from './support/operator.js';

const TERMINAL = new Set(['Succeeded', 'Failed', 'Pruned', 'MetricsUnavailable']);
const xy = [
  { name: 'x', type: 'double', min: 0, max: 1 },
  { name: 'y', type: 'double', min: 0, max: 1 },
];

describe('operator trials on the real test cluster', () => {
  const suite = operatorSuite();

  it('never has more active trials than --max-concurrent-trials, with 4 workers and 3 studies', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-cap');
    // Every Trial change, in the apiserver's order: the count of active trials after each event
    // is exactly what the cluster held at that point.
    const states = new Map<string, string>();
    let most = 0;
    let watchEnded: unknown;
    const watch = await new Watch(suite.c.kc).watch(
      `/apis/${GROUP}/${VERSION}/namespaces/${ns}/trials`,
      {},
      (type: string, trial: TrialObject) => {
        if (type === 'DELETED') states.delete(trial.metadata.name);
        else states.set(trial.metadata.name, trial.status?.state ?? 'Pending');
        most = Math.max(most, [...states.values()].filter((s) => !TERMINAL.has(s)).length);
      },
      (err: unknown) => (watchEnded = err ?? 'closed'),
    );
    t.after(() => watch.abort());
    const studies = ['capped-a', 'capped-b', 'capped-c'];
    for (const name of studies) {
      await createStudy(suite.api, ns, name, {
        objective: { metric: 'loss', goal: 'minimize' },
        algorithm: { name: 'random' },
        parameters: xy,
        maxTrials: 3,
        parallelism: 2,
        trialTemplate: fakeTrainerTemplate(['--x=${params.x}', '--epochs=2', '--sleep-ms=300']),
      });
    }
    // Started after the studies exist, so the workers reconcile all of them at once.
    const op = suite.start(['--namespaces', ns, '--max-concurrent-trials', '2', '--workers', '4']);
    for (const name of studies) {
      const study = await waitForStudyEnd(suite.api, ns, name, 180_000, op);
      assert.equal(study.status?.phase, 'Succeeded', JSON.stringify(study.status?.conditions));
    }
    assert.equal(watchEnded, undefined, `the trial watch ended early (${String(watchEnded)})`);
    assert.equal(states.size, 9);
    assert.ok(most <= 2, `${most} trials were active at once; the cap is 2`);
    assert.equal(most, 2, 'the cap was never used in full');
  });

  it('ends a running trial whose Job was deleted as Failed/JobDeleted with an Event, and does not re-run it', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-jobdel');
    const op = suite.start(['--namespaces', ns]);
    await createStudy(suite.api, ns, 'orphan', {
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: { name: 'random' },
      parameters: xy,
      maxTrials: 1,
      maxFailedTrials: 1,
      trialTemplate: fakeTrainerTemplate(['--x=${params.x}', '--epochs=200', '--sleep-ms=200']),
    });
    const running = await waitFor(
      async () => {
        const [trial] = await listTrials(suite.api, ns, 'orphan');
        return trial?.status?.state === 'Running' ? trial : undefined;
      },
      60_000,
      'the trial to run',
    );
    const name = running.metadata.name;
    const original = await suite.c.batch.readNamespacedJob({ namespace: ns, name });
    await suite.c.batch.deleteNamespacedJob({ namespace: ns, name, propagationPolicy: 'Background' });
    // Ends either way: the trial is recorded, or a new Job (another uid) shows it was re-run.
    const seen = await waitFor(
      async () => {
        const [trial] = await listTrials(suite.api, ns, 'orphan');
        if (TERMINAL.has(trial?.status?.state ?? '')) return { trial };
        const jobs = await suite.c.batch.listNamespacedJob({ namespace: ns });
        const rerun = jobs.items.find((j) => j.metadata?.uid !== original.metadata?.uid);
        return rerun ? { rerun } : undefined;
      },
      60_000,
      'the trial to end or its Job to be re-created',
    );
    assert.equal(seen.rerun, undefined, 'the trial was re-run with a new Job');
    assert.equal(seen.trial?.status?.state, 'Failed');
    assert.equal(seen.trial?.status?.reason, 'JobDeleted');
    assert.match(seen.trial?.status?.message ?? '', new RegExp(`Job ${name} was deleted`));
    const event = await waitFor(
      async () =>
        (await suite.c.core.listNamespacedEvent({ namespace: ns })).items.find(
          (e) => e.involvedObject.name === name && /JobDeleted/.test(e.message ?? ''),
        ),
      30_000,
      'the JobDeleted event',
    );
    assert.equal(event.type, 'Warning');
    await waitForStudyEnd(suite.api, ns, 'orphan', 30_000, op);
    assert.equal((await suite.c.batch.listNamespacedJob({ namespace: ns })).items.length, 0);
  });

  it('follows the retry pod after a failed attempt and times pending from that pod', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-retry');
    const op = suite.start(['--namespaces', ns]);
    const marker = join(mkdtempSync(join(tmpdir(), 'kt-retry-')), 'first-attempt-ran');
    // The first attempt reports a bad value, runs longer than pendingTimeoutSeconds and fails;
    // the Job's retry (after its 10 s back-off) trains normally.
    const script =
      `if [ -e ${marker} ]; then exec node ${FAKE_TRAINER} --x=0.3 --y=0.7 --epochs=3 --sleep-ms=300; fi; ` +
      `touch ${marker}; echo epoch=1 loss=99; sleep 25; exit 1`;
    await createStudy(suite.api, ns, 'retried', {
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: { name: 'random' },
      parameters: xy,
      maxTrials: 1,
      maxFailedTrials: 0,
      pendingTimeoutSeconds: 20,
      trialTemplate: {
        spec: {
          backoffLimit: 1,
          template: {
            spec: {
              restartPolicy: 'Never',
              terminationGracePeriodSeconds: 2,
              containers: [{ name: 'train', image: 'node:20', command: ['sh', '-c', script] }],
            },
          },
        },
      },
    });
    const study = await waitForStudyEnd(suite.api, ns, 'retried', 180_000, op);
    const [trial] = await listTrials(suite.api, ns, 'retried');
    assert.equal(trial?.status?.state, 'Succeeded', `${trial?.status?.reason}: ${trial?.status?.message}`);
    assert.equal(study.status?.phase, 'Succeeded');
    const pods = (await suite.c.core.listNamespacedPod({ namespace: ns })).items;
    const succeeded = pods.find((p) => p.status?.phase === 'Succeeded');
    assert.equal(pods.length, 2, 'the Job ran two pods');
    assert.equal(trial?.status?.podName, succeeded?.metadata?.name);
    const values = (trial?.status?.intermediate ?? []).map((p) => p.value);
    assert.equal(values.length, 3, JSON.stringify(trial?.status?.intermediate));
    assert.ok(!values.includes(99), 'values of the failed attempt were kept');
    assert.equal(trial?.status?.objective, values.at(-1));
  });
});
