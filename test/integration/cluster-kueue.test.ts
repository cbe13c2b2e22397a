// Kueue runs for real beside the test cluster (test/cluster/kueue.sh): it admits queued Jobs only
// within a ClusterQueue's quota and preempts lower-priority Workloads for higher ones. Each pod
// waits for a file that the test creates, so the test, not the clock, decides when a Job ends.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { V1Job } from '@kubernetes/client-node';
import { clients, createTestNamespace, jobPods, waitFor, type AfterHook } from './support/cluster.js';
import {
  PRIORITY_CLASS_LABEL,
  QUEUE_LABEL,
  createQueues,
  createWorkloadPriorityClass,
  isAdmitted,
  listWorkloads,
  pendingReason,
  workloadCondition,
  type Workload,
} from './support/kueue.js';

const c = clients();
const GPU = 'nvidia.com/gpu';
// Generous: the CPUs may be busy with other work; no assertion depends on how long anything takes.
const WAIT_MS = 120_000;

interface GatedJob {
  name: string;
  queue: string;
  /** The pod exits 0 once this file exists. */
  gate: string;
  priorityClass?: string;
}

function gatedJob({ name, queue, gate, priorityClass }: GatedJob): V1Job {
  return {
    metadata: {
      name,
      labels: { [QUEUE_LABEL]: queue, ...(priorityClass ? { [PRIORITY_CLASS_LABEL]: priorityClass } : {}) },
    },
    spec: {
      suspend: true,
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 5,
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
  };
}

function gateDir(t: AfterHook): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubetune-kueue-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const open = (gate: string) => writeFileSync(gate, '');

/** One consistent look at the namespace's Jobs and Workloads (each from a single list). */
interface Snapshot {
  workloads: Map<string, Workload>;
  /** Admitted and not finished: holding quota. */
  admitted: string[];
  /** Unsuspended and not finished: allowed to run pods. */
  running: string[];
  complete: string[];
}

const finished = (w: Workload | undefined) => workloadCondition(w, 'Finished') !== undefined;

async function snapshot(namespace: string): Promise<Snapshot> {
  const [jobs, workloads] = await Promise.all([
    c.batch.listNamespacedJob({ namespace }),
    listWorkloads(c, namespace),
  ]);
  const byJob = new Map<string, Workload>();
  for (const w of workloads) {
    const owner = w.metadata.ownerReferences?.find((o) => o.kind === 'Job');
    if (owner) byJob.set(owner.name, w);
  }
  const done = (j: V1Job) =>
    j.status?.conditions?.some(
      (cond) => ['Complete', 'Failed'].includes(cond.type) && cond.status === 'True',
    );
  return {
    workloads: byJob,
    admitted: [...byJob].filter(([, w]) => isAdmitted(w) && !finished(w)).map(([job]) => job),
    running: jobs.items.filter((j) => j.spec?.suspend === false && !done(j)).map((j) => j.metadata!.name!),
    complete: jobs.items
      .filter((j) => j.status?.conditions?.some((cond) => cond.type === 'Complete' && cond.status === 'True'))
      .map((j) => j.metadata!.name!),
  };
}

/**
 * Polls snapshots until `until` returns a value, checking in every one that no more than `quota`
 * Jobs hold quota or run. A breach is remembered rather than thrown, since waitFor retries on
 * errors; `breaches()` is asserted empty at the end of each test.
 */
function quotaWatch(namespace: string, quota: number) {
  const breaches = new Set<string>();
  return {
    breaches: () => [...breaches],
    until<T>(until: (s: Snapshot) => T | undefined | false, what: string): Promise<T> {
      return waitFor(
        async () => {
          const s = await snapshot(namespace);
          if (s.admitted.length > quota) breaches.add(`admitted at once: ${s.admitted.join(', ')}`);
          if (s.running.length > quota) breaches.add(`unsuspended at once: ${s.running.join(', ')}`);
          return until(s);
        },
        WAIT_MS,
        what,
      );
    },
  };
}

async function podRunning(namespace: string, job: string): Promise<void> {
  await waitFor(
    async () => (await jobPods(c, namespace, job)).some((p) => p.status?.phase === 'Running'),
    WAIT_MS,
    `a running pod of Job ${job}`,
  );
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

test('Kueue admits queued Jobs only within the ClusterQueue GPU quota; the rest wait with a reason, then run', async (t) => {
  const ns = await createTestNamespace(t, c, 'kueue');
  const queues = await createQueues(t, c, ns, { quota: { [GPU]: '2' } });
  const dir = gateDir(t);
  const names = ['gpu-a', 'gpu-b', 'gpu-c', 'gpu-d'];
  for (const name of names) {
    await c.batch.createNamespacedJob({
      namespace: ns,
      body: gatedJob({ name, queue: queues.localQueue, gate: join(dir, name) }),
    });
  }
  const watch = quotaWatch(ns, 2);

  const first = await watch.until((s) => {
    const pending = names.filter((n) => !s.admitted.includes(n) && pendingReason(s.workloads.get(n)));
    return s.admitted.length === 2 && pending.length === 2 ? { s, admitted: s.admitted, pending } : undefined;
  }, 'two Jobs admitted and two pending');
  for (const name of first.pending) {
    const why = pendingReason(first.s.workloads.get(name))!;
    assert.equal(why.reason, 'Pending', `${name}: ${why.message}`);
    assert.match(why.message, /insufficient unused quota for nvidia\.com\/gpu/, name);
    const job = await c.batch.readNamespacedJob({ namespace: ns, name });
    assert.equal(job.spec?.suspend, true, `${name} waits suspended`);
    assert.equal((await jobPods(c, ns, name)).length, 0, `${name} has no pods while it waits`);
  }
  for (const name of first.admitted) await podRunning(ns, name);

  for (const name of first.admitted) open(join(dir, name));
  await watch.until(
    (s) => sameSet(s.admitted, first.pending) && first.admitted.every((n) => s.complete.includes(n)),
    'the first two to complete and the waiting two to be admitted',
  );
  for (const name of first.pending) await podRunning(ns, name);

  for (const name of first.pending) open(join(dir, name));
  await watch.until(
    (s) => sameSet(s.complete, names) && names.every((n) => finished(s.workloads.get(n))),
    'all four Jobs to complete and their Workloads to finish',
  );
  assert.deepEqual(watch.breaches(), []);
});

test('a high-priority Job preempts an admitted low-priority one, which is re-admitted and completes afterwards', async (t) => {
  const ns = await createTestNamespace(t, c, 'kueue');
  const queues = await createQueues(t, c, ns, { quota: { [GPU]: '1' }, withinClusterQueue: 'LowerPriority' });
  const low = await createWorkloadPriorityClass(t, c, 100);
  const high = await createWorkloadPriorityClass(t, c, 1000);
  const dir = gateDir(t);
  const job = (name: string, priorityClass: string) =>
    c.batch.createNamespacedJob({
      namespace: ns,
      body: gatedJob({ name, queue: queues.localQueue, gate: join(dir, name), priorityClass }),
    });
  const watch = quotaWatch(ns, 1);

  await job('low', low);
  await watch.until(
    (s) => sameSet(s.admitted, ['low']) && s.running.includes('low'),
    'the low Job to be admitted',
  );
  await podRunning(ns, 'low');

  await job('high', high);
  const evicted = await watch.until((s) => {
    const w = s.workloads.get('low');
    const cond = workloadCondition(w, 'Evicted');
    return cond && !s.running.includes('low')
      ? { cond, preempted: workloadCondition(w, 'Preempted') }
      : undefined;
  }, 'the low Job to be evicted and suspended');
  assert.equal(evicted.cond.reason, 'Preempted', evicted.cond.message);
  assert.equal(evicted.preempted?.reason, 'InClusterQueue', 'preempted for a Workload in its ClusterQueue');
  assert.equal((await c.batch.readNamespacedJob({ namespace: ns, name: 'low' })).spec?.suspend, true);

  await watch.until(
    (s) => sameSet(s.admitted, ['high']) && pendingReason(s.workloads.get('low')),
    'the high Job to be admitted while the low one waits',
  );
  await podRunning(ns, 'high');

  open(join(dir, 'high'));
  await watch.until(
    (s) => s.complete.includes('high') && sameSet(s.admitted, ['low']) && s.running.includes('low'),
    'the high Job to complete and the low one to be admitted again',
  );
  open(join(dir, 'low'));
  await watch.until((s) => sameSet(s.complete, ['high', 'low']), 'the low Job to complete');
  const done = await c.batch.readNamespacedJob({ namespace: ns, name: 'low' });
  assert.equal(done.status?.succeeded, 1);
  assert.deepEqual(watch.breaches(), []);
});
