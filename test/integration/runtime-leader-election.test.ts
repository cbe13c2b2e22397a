// Two LeaderElectors on a real Lease. Each reaches the apiserver through its own fault proxy so
// a leader can be cut off (as if it crashed or was partitioned) without a graceful release.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoordinationV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { LeaderElector } from '../../src/operator/runtime/leader-election.js';
import {
  coreApi,
  FaultProxy,
  loadKubeConfig,
  testLogger,
  testNamespace,
  until,
} from './support/runtime-cluster.js';

const timings = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 400 };

/** Every candidate's leadership changes in the order they happened, across candidates. */
type Timeline = string[];

async function candidate(kc: KubeConfig, namespace: string, identity: string, timeline: Timeline) {
  const proxy = FaultProxy.forKubeConfig(kc);
  await proxy.start();
  const elector = new LeaderElector(proxy.kubeConfig(kc).makeApiClient(CoordinationV1Api), {
    namespace,
    name: 'kubetune-operator',
    identity,
    logger: testLogger(),
    ...timings,
  });
  const log: string[] = [];
  const signals: AbortSignal[] = [];
  const running = elector.run({
    onStartedLeading: (s) => {
      signals.push(s);
      log.push('started');
      timeline.push(`${identity}:started`);
    },
    onStoppedLeading: () => {
      log.push('stopped');
      timeline.push(`${identity}:stopped`);
    },
    onNewLeader: (id) => log.push(`leader:${id}`),
  });
  return { identity, proxy, elector, log, signals, running };
}

describe('LeaderElector (real apiserver)', () => {
  it(
    'elects exactly one leader; a cut-off leader steps down and the other takes over; stop() hands over at once',
    { timeout: 120_000 },
    async (t) => {
      const kc = loadKubeConfig();
      const ns = await testNamespace(t, coreApi(kc), 'rt-leader');
      const leases = kc.makeApiClient(CoordinationV1Api);
      const timeline: Timeline = [];
      const a = await candidate(kc, ns, 'candidate-a', timeline);
      const b = await candidate(kc, ns, 'candidate-b', timeline);
      t.after(async () => {
        await Promise.all([a.elector.stop(), b.elector.stop()]);
        await Promise.all([a.proxy.close(), b.proxy.close()]);
      });

      const leaderOf = () => [a, b].filter((c) => c.elector.isLeader());
      const [first] = await until(() => leaderOf().length === 1 && leaderOf(), 'a leader', 15_000);
      assert.ok(first);
      const second = first === a ? b : a;
      // Several renewals later there is still exactly one.
      for (let i = 0; i < 8; i++) {
        await new Promise((r) => setTimeout(r, 250));
        assert.deepEqual(leaderOf(), [first]);
      }
      const lease = await leases.readNamespacedLease({ namespace: ns, name: 'kubetune-operator' });
      assert.equal(lease.spec?.holderIdentity, first.identity);
      assert.equal(lease.spec?.leaseDurationSeconds, 3);
      assert.match(String(lease.spec?.renewTime), /\.\d{6}Z$/);
      await until(
        () => second.log.includes(`leader:${first.identity}`),
        'the follower to see the leader',
        5000,
      );

      // Cut the leader off: it can neither renew nor release.
      first.proxy.refusing = true;
      first.proxy.resetAll();
      const cut = performance.now();
      await until(() => !first.elector.isLeader(), 'the cut-off leader to step down', 10_000);
      const steppedDown = performance.now() - cut;
      assert.ok(first.signals[0]?.aborted, 'its work signal is aborted');
      await until(() => second.elector.isLeader(), 'the other candidate to take over', 15_000);
      const tookOver = performance.now() - cut;
      // How fast is a benchmark's question (npm run bench:operator); here only the order counts.
      t.diagnostic(
        `stepped down ${Math.round(steppedDown)} ms and taken over ${Math.round(tookOver)} ms after the cut`,
      );
      // Never two leaders at once: the cut-off leader stopped before the other started.
      assert.deepEqual(timeline, [
        `${first.identity}:started`,
        `${first.identity}:stopped`,
        `${second.identity}:started`,
      ]);
      const taken = await leases.readNamespacedLease({ namespace: ns, name: 'kubetune-operator' });
      assert.equal(taken.spec?.holderIdentity, second.identity);
      assert.equal(taken.spec?.leaseTransitions, (lease.spec?.leaseTransitions ?? 0) + 1);

      // The old leader comes back and follows.
      first.proxy.refusing = false;
      await until(
        () => first.log.includes(`leader:${second.identity}`),
        'the old leader to see the new one',
        10_000,
      );
      assert.equal(first.elector.isLeader(), false);

      // Graceful stop releases the lease, so the follower need not wait for it to expire.
      const stopping = performance.now();
      await second.elector.stop();
      await second.running;
      assert.deepEqual(
        second.log.filter((e) => e === 'started' || e === 'stopped'),
        ['started', 'stopped'],
      );
      const released = await leases.readNamespacedLease({ namespace: ns, name: 'kubetune-operator' });
      // Either still released, or already taken by the remaining candidate.
      assert.ok(
        released.spec?.holderIdentity === undefined || released.spec.holderIdentity === first.identity,
        `lease held by ${released.spec?.holderIdentity} after stop()`,
      );
      await until(() => first.elector.isLeader(), 'the remaining candidate to lead', 10_000);
      t.diagnostic(`graceful handover took ${Math.round(performance.now() - stopping)} ms`);
      assert.deepEqual(
        first.log.filter((e) => e === 'started' || e === 'stopped'),
        ['started', 'stopped', 'started'],
      );
    },
  );
});
