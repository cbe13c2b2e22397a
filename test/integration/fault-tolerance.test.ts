// Acceptance tests for issue #11 on the real test control plane: a leader frozen past its lease
// sends nothing after its successor took over; a study survives an apiserver that answers 503
// and 429 and drops connections; a failed read of a trial's final log does not decide it. Each
// operator reaches the apiserver through an ApiProxy, which records what it sent (and, for
// accepted writes, the resourceVersion the apiserver gave them) and injects the faults.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StudyObject, TrialObject } from '../../src/operator/kube/resources.js';
import { ApiProxy, isWrite, type ProxiedRequest } from './support/api-proxy.js';
import { createTestNamespace, loadKubeConfig, waitFor } from './support/cluster.js';
import {
  createStudy,
  fakeTrainerTemplate,
  listTrials,
  operatorSuite,
  waitForStudyEnd,
  type OperatorProcess,
} from './support/operator.js';

const xy = [
  { name: 'x', type: 'double', min: 0, max: 1 },
  { name: 'y', type: 'double', min: 0, max: 1 },
];
const LEASE = 'kubetune';
const isLeaseWrite = (r: ProxiedRequest) => isWrite(r) && r.url.includes(`/leases/${LEASE}`);
const describeRequest = (r: ProxiedRequest) => `${r.method} ${r.url} -> ${r.status ?? 'no answer'}`;

async function startedProxy(plan?: ConstructorParameters<typeof ApiProxy>[1]): Promise<ApiProxy> {
  const proxy = new ApiProxy(loadKubeConfig(), plan);
  await proxy.start();
  return proxy;
}

/** What the fake trainer reports as its last loss for these parameters (see its source). */
function expectedLoss(trial: TrialObject, epochs: number): number {
  const x = Number(trial.spec.parameters['x']);
  const y = Number(trial.spec.parameters['y']);
  return (x - 0.3) ** 2 + (y - 0.7) ** 2 + 1 / epochs;
}

function assertCompleteStudy(trials: TrialObject[], maxTrials: number, epochs: number): void {
  assert.deepEqual(
    trials.map((tr) => tr.spec.index),
    [...Array(maxTrials).keys()],
  );
  for (const tr of trials) {
    assert.equal(
      tr.status?.state,
      'Succeeded',
      `${tr.metadata.name}: ${tr.status?.state} ${tr.status?.reason ?? ''} ${tr.status?.message ?? ''}`,
    );
    assert.equal(tr.status?.objective, expectedLoss(tr, epochs), `${tr.metadata.name}'s objective`);
  }
}

function assertSucceeded(study: StudyObject): void {
  const why = (study.status?.conditions ?? []).map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`);
  assert.equal(study.status?.phase, 'Succeeded', why.join('; '));
}

const exited = (op: OperatorProcess) => op.child.exitCode !== null || op.child.signalCode !== null;

describe('fault tolerance on the real test cluster (issue #11)', () => {
  const suite = operatorSuite();

  it(
    'a leader frozen past its lease sends no write after its successor acquired it',
    { timeout: 300_000 },
    async (t) => {
      const ns = await createTestNamespace(t, suite.c, 'ft-stale');
      const [proxyA, proxyB] = [await startedProxy(), await startedProxy()];
      t.after(() => Promise.all([proxyA.close(), proxyB.close()]).then(() => undefined));
      const args = (proxy: ApiProxy) => [
        '--kubeconfig',
        proxy.kubeconfigPath,
        '--namespaces',
        ns,
        '--leader-elect',
        '--lease-namespace',
        ns,
        '--lease-name',
        LEASE,
        '--lease-duration-seconds',
        '8',
        '--renew-deadline-seconds',
        '5',
        '--retry-period-seconds',
        '1',
      ];
      const a = suite.start(args(proxyA));
      await waitFor(() => /"msg":"became leader"/.test(a.output()) || undefined, 30_000, 'A to lead', 100);
      const b = suite.start(args(proxyB));
      await waitFor(() => /observed leader/.test(b.output()) || undefined, 30_000, 'B to see A lead', 100);

      const epochs = 4;
      // Freeze A with a reconcile in flight: its first trial created on the apiserver, the answer
      // (after which it would create the trial's Job) not yet read.
      const held = proxyA.holdNext((r) => r.method === 'POST' && /\/trials$/.test(r.url));
      await createStudy(suite.api, ns, 'stale', {
        objective: { metric: 'loss', goal: 'minimize' },
        algorithm: { name: 'random' },
        parameters: xy,
        maxTrials: 6,
        parallelism: 2,
        seed: 7,
        trialTemplate: fakeTrainerTemplate([
          '--x=${params.x}',
          '--y=${params.y}',
          `--epochs=${epochs}`,
          '--sleep-ms=300',
        ]),
      });
      let inFlight: ProxiedRequest | undefined;
      void held.arrived.then((r) => (inFlight = r));
      await waitFor(() => inFlight, 60_000, "A's first trial creation", 50);
      assert.ok(a.child.kill('SIGSTOP'), 'could not stop A');
      held.release();
      const acquire = await waitFor(
        () => proxyB.requests.find((r) => isLeaseWrite(r) && (r.status ?? 0) < 300 && r.resourceVersion),
        60_000,
        'B to acquire the lease',
        100,
      );
      await waitFor(
        () => /controllers started/.test(b.output()) || undefined,
        30_000,
        'B to start its controllers',
        100,
      );
      const resumedAt = performance.now();
      assert.ok(a.child.kill('SIGCONT'), 'could not resume A');

      // A finds out it lost the lease and exits (a Deployment restarts it as a standby).
      await waitFor(() => exited(a) || undefined, 60_000, 'A to exit after losing the lease', 200);
      assert.match(a.output(), /lost leadership/);
      const study = await waitForStudyEnd(suite.api, ns, 'stale', 180_000, b);

      const acquireRv = BigInt(acquire.resourceVersion as string);
      const aWrites = proxyA.requests.filter(isWrite);
      assert.ok(
        aWrites.some((r) => !isLeaseWrite(r) && (r.status ?? 0) < 300),
        'A wrote nothing before it was frozen: the test did not exercise a working leader',
      );
      // On the wire: after it woke up, A sent no write at all, not even to the lease.
      const late = aWrites.filter((r) => r.receivedAt > resumedAt);
      assert.deepEqual(late.map(describeRequest), [], 'A wrote after resuming');
      // Server side: no write of A's that the apiserver accepted is ordered after B's acquire
      // (resourceVersions are etcd revisions, one global sequence, on this cluster's etcd).
      const afterAcquire = aWrites.filter(
        (r) => r.resourceVersion !== undefined && BigInt(r.resourceVersion) > acquireRv,
      );
      assert.deepEqual(
        afterAcquire.map(describeRequest),
        [],
        `A's writes ordered after B's acquire (rv ${acquireRv})`,
      );
      t.diagnostic(
        `A: ${aWrites.length} writes before it was frozen, ` +
          `${proxyA.requests.filter((r) => r.receivedAt > resumedAt).length} reads after it resumed; ` +
          `log lines on requests its fence refused or cut off: ${(a.output().match(/refused|cut off/g) ?? []).length}`,
      );

      assertSucceeded(study);
      const trials = await listTrials(suite.api, ns, 'stale');
      assertCompleteStudy(trials, 6, epochs);
      assert.equal((await suite.c.batch.listNamespacedJob({ namespace: ns })).items.length, 6);
    },
  );

  it(
    'a study completes exactly, with no trial failed by 503s, 429s and dropped connections',
    { timeout: 420_000 },
    async (t) => {
      const ns = await createTestNamespace(t, suite.c, 'ft-faults');
      const seed = Number(process.env.KUBETUNE_FAULT_SEED ?? 11);
      const proxy = await startedProxy({
        seed,
        rates: { '500': 0.01, '503': 0.1, '429': 0.1, 'reset-before': 0.02, 'reset-after': 0.02 },
        cutStreamsAfterMs: [3000, 12_000],
      });
      t.after(() => proxy.close());
      const op = suite.start(['--kubeconfig', proxy.kubeconfigPath, '--namespaces', ns]);
      const epochs = 3;
      const maxTrials = 6;
      await createStudy(suite.api, ns, 'faulty', {
        objective: { metric: 'loss', goal: 'minimize' },
        algorithm: { name: 'random' },
        parameters: xy,
        maxTrials,
        parallelism: 2,
        seed: 5,
        trialTemplate: fakeTrainerTemplate([
          '--x=${params.x}',
          '--y=${params.y}',
          `--epochs=${epochs}`,
          '--sleep-ms=300',
        ]),
      });
      const study = await waitForStudyEnd(suite.api, ns, 'faulty', 360_000, op);
      const counts = proxy.faultCounts();
      t.diagnostic(`seed ${seed}: ${proxy.requests.length} requests, faults ${JSON.stringify(counts)}`);
      assertSucceeded(study);
      assertCompleteStudy(await listTrials(suite.api, ns, 'faulty'), maxTrials, epochs);
      assert.equal((await suite.c.batch.listNamespacedJob({ namespace: ns })).items.length, maxTrials);
      for (const fault of ['500', '503', '429', 'reset-before', 'reset-after'] as const)
        assert.ok(counts[fault] > 0, `no ${fault} was injected: the schedule did not exercise it`);
      assert.equal(op.child.exitCode, null, 'the operator exited');
    },
  );

  it('a failed read of the final log does not decide the trial: it is read again', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'ft-final');
    // No live values (every log follow fails) and the first two reads of the whole log fail with
    // 500, as when the apiserver cannot reach the kubelet for a moment.
    let finalReads = 0;
    const proxy = await startedProxy({
      rule: (r) =>
        !/\/pods\/[^/]+\/log\?/.test(r.url) ? undefined : r.stream || ++finalReads <= 2 ? '500' : undefined,
    });
    t.after(() => proxy.close());
    const op = suite.start(['--kubeconfig', proxy.kubeconfigPath, '--namespaces', ns]);
    const epochs = 2;
    await createStudy(suite.api, ns, 'reread', {
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: { name: 'random' },
      parameters: xy,
      maxTrials: 1,
      trialTemplate: fakeTrainerTemplate(['--x=${params.x}', '--y=${params.y}', `--epochs=${epochs}`]),
    });
    const study = await waitForStudyEnd(suite.api, ns, 'reread', 120_000, op);
    assert.ok(finalReads >= 3, `the final log was read ${finalReads} times`);
    assertSucceeded(study);
    assertCompleteStudy(await listTrials(suite.api, ns, 'reread'), 1, epochs);
  });
});
