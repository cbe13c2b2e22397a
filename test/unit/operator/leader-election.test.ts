import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, V1MicroTime } from '@kubernetes/client-node';
import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import { pino } from 'pino';
import {
  decide,
  LeaderElector,
  microTime,
  observe,
  recordOf,
} from '../../../src/operator/runtime/leader-election.js';
import type { LeaseRecord } from '../../../src/operator/runtime/leader-election.js';

const rec = (holder: string, renewTime = 't1', leaseDurationSeconds = 15): LeaseRecord => ({
  holderIdentity: holder,
  leaseDurationSeconds,
  renewTime,
  leaseTransitions: 0,
});

describe('microTime', () => {
  it('has exactly 6 fractional digits', () => {
    assert.equal(microTime(new Date('2026-11-26T21:59:24.123Z')), '2026-11-26T21:59:24.123000Z');
    assert.equal(microTime(new Date('2026-11-26T21:59:24Z')), '2026-11-26T21:59:24.000000Z');
    assert.match(microTime(new Date()), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('matches how V1MicroTime values are written to the API', () => {
    const d = new Date('2026-11-26T21:59:24.123Z');
    assert.equal(JSON.stringify({ t: new V1MicroTime(d.getTime()) }), JSON.stringify({ t: microTime(d) }));
  });
});

describe('decide', () => {
  it('creates a missing lease, renews its own and takes a free one', () => {
    assert.deepEqual(decide(undefined, 0, 'me'), { kind: 'create' });
    assert.deepEqual(decide({ record: rec('me'), observedAt: 0 }, 1e9, 'me'), { kind: 'renew' });
    assert.deepEqual(decide({ record: rec(''), observedAt: 0 }, 0, 'me'), {
      kind: 'acquire',
      previousHolder: '',
    });
  });

  it("waits for another holder's lease to expire, judged from local observation time", () => {
    const observed = { record: rec('other', 't1', 15), observedAt: 1000 };
    assert.deepEqual(decide(observed, 1000, 'me'), { kind: 'wait', holder: 'other', expiresInMs: 15_000 });
    assert.deepEqual(decide(observed, 15_999, 'me'), { kind: 'wait', holder: 'other', expiresInMs: 1 });
    assert.deepEqual(decide(observed, 16_000, 'me'), { kind: 'acquire', previousHolder: 'other' });
    // A released lease (client-go sets 1 s) expires quickly even if a holder were left in it.
    assert.equal(decide({ record: rec('other', 't1', 1), observedAt: 0 }, 1000, 'me').kind, 'acquire');
    // Without leaseDurationSeconds the caller's duration is assumed.
    const noDuration = { record: { holderIdentity: 'other', leaseTransitions: 0 }, observedAt: 0 };
    assert.equal(decide(noDuration, 9_000, 'me', 10_000).kind, 'wait');
    assert.equal(decide(noDuration, 10_000, 'me', 10_000).kind, 'acquire');
  });

  it('observe() keeps the first observation time until the record changes', () => {
    const first = observe(undefined, rec('other', 't1'), 100);
    assert.equal(
      observe(first, rec('other', 't1'), 5000).observedAt,
      100,
      'a stale lease does not look fresh',
    );
    assert.equal(observe(first, rec('other', 't2'), 5000).observedAt, 5000, 'a renewal resets the clock');
    assert.equal(observe(first, rec('third', 't1'), 6000).observedAt, 6000);
  });

  it('recordOf reads string or Date MicroTimes and defaults', () => {
    const lease: V1Lease = {
      spec: { holderIdentity: 'a', renewTime: '2026-11-26T21:59:24.123000Z' as unknown as V1MicroTime },
    };
    assert.deepEqual(recordOf(lease), {
      holderIdentity: 'a',
      leaseDurationSeconds: undefined,
      acquireTime: undefined,
      renewTime: '2026-11-26T21:59:24.123000Z',
      leaseTransitions: 0,
    });
    assert.equal(recordOf({}).holderIdentity, '');
  });
});

/**
 * An in-memory Lease store with the apiserver's optimistic concurrency (resourceVersion checks,
 * 404/409), to exercise the election loop quickly. The real apiserver is exercised by
 * test/integration/runtime-leader-election.test.ts.
 */
class LeaseStore {
  lease: V1Lease | undefined;
  rv = 0;
  failing = new Set<string>();
  /** While set, reads wait for it and come back marked with when they began. */
  gate: Promise<void> | undefined;
  heldReads: number[] = [];
  /** For each write based on a held read, when that read began. */
  writesAfterHeldReads: number[] = [];
  private status(code: number, reason: string) {
    return new ApiException(
      code,
      'Unknown API Status Code!',
      JSON.stringify({ code, reason, message: reason }),
      {},
    );
  }
  private clone(l: V1Lease): V1Lease {
    return JSON.parse(JSON.stringify(l));
  }
  api(identity: string): CoordinationV1Api {
    const check = () => {
      if (this.failing.has(identity)) throw new Error('connect ECONNREFUSED');
    };
    return {
      readNamespacedLease: async () => {
        check();
        const held = this.gate;
        const began = performance.now();
        if (held) {
          this.heldReads.push(began);
          await held;
        }
        if (!this.lease) throw this.status(404, 'NotFound');
        const lease = this.clone(this.lease);
        if (held) lease.metadata = { ...lease.metadata, annotations: { heldFrom: String(began) } };
        return lease;
      },
      createNamespacedLease: async ({ body }: { body: V1Lease }) => {
        check();
        if (this.lease) throw this.status(409, 'AlreadyExists');
        this.lease = this.clone(body);
        this.lease.metadata = { ...this.lease.metadata, resourceVersion: String(++this.rv) };
        return this.clone(this.lease);
      },
      replaceNamespacedLease: async ({ body }: { body: V1Lease }) => {
        check();
        const heldFrom = body.metadata?.annotations?.['heldFrom'];
        if (heldFrom) this.writesAfterHeldReads.push(Number(heldFrom));
        if (body.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) {
          throw this.status(409, 'Conflict');
        }
        this.lease = this.clone(body);
        this.lease.metadata = { ...this.lease.metadata, resourceVersion: String(++this.rv) };
        return this.clone(this.lease);
      },
    } as unknown as CoordinationV1Api;
  }
}

describe('LeaderElector loop (in-memory lease store)', () => {
  const timings = { leaseDurationMs: 1000, renewDeadlineMs: 300, retryPeriodMs: 50 };
  const logger = pino({ level: 'silent' });

  function candidate(store: LeaseStore, identity: string) {
    const events: string[] = [];
    const elector = new LeaderElector(store.api(identity), {
      namespace: 'ns',
      name: 'kubetune',
      identity,
      logger,
      ...timings,
    });
    let signal: AbortSignal | undefined;
    const running = elector.run({
      onStartedLeading: (s) => {
        signal = s;
        events.push('started');
      },
      onStoppedLeading: () => events.push('stopped'),
      onNewLeader: (id) => events.push(`leader:${id}`),
    });
    return { elector, events, running, signal: () => signal };
  }

  it('elects one leader, writes MicroTimes, and hands over at once on stop()', async () => {
    const store = new LeaseStore();
    const a = candidate(store, 'a');
    await sleep(20);
    const b = candidate(store, 'b');
    await sleep(150);
    assert.equal(a.elector.isLeader(), true);
    assert.equal(b.elector.isLeader(), false);
    assert.deepEqual(b.events, ['leader:a']);
    const spec = store.lease?.spec;
    assert.match(String(spec?.renewTime), /\.\d{6}Z$/);
    assert.equal(spec?.leaseDurationSeconds, 1);

    const t0 = performance.now();
    await a.elector.stop();
    await a.running;
    assert.deepEqual(a.events, ['leader:a', 'started', 'stopped']);
    assert.equal(a.signal()?.aborted, true);
    while (!b.elector.isLeader()) await sleep(5);
    assert.ok(performance.now() - t0 < 500, 'released lease is taken without waiting for expiry');
    assert.equal(store.lease?.spec?.leaseTransitions, 1);
    await b.elector.stop();
  });

  it('a partitioned leader steps down within renewDeadline; the other takes over after the lease duration', async () => {
    const store = new LeaseStore();
    const a = candidate(store, 'a');
    await sleep(20);
    const b = candidate(store, 'b');
    await sleep(100);
    assert.equal(a.elector.isLeader(), true);
    const t0 = performance.now();
    store.failing.add('a');
    while (a.elector.isLeader()) await sleep(5);
    const steppedDown = performance.now() - t0;
    assert.ok(
      steppedDown <= timings.renewDeadlineMs + timings.retryPeriodMs + 50,
      `stepped down after ${steppedDown}`,
    );
    assert.equal(a.signal()?.aborted, true);
    assert.equal(b.elector.isLeader(), false, 'not before the lease expires');
    while (!b.elector.isLeader()) await sleep(5);
    const tookOver = performance.now() - t0;
    assert.ok(tookOver >= timings.leaseDurationMs - timings.retryPeriodMs, `took over after ${tookOver}`);
    assert.ok(tookOver < timings.leaseDurationMs + 4 * timings.retryPeriodMs, `took over after ${tookOver}`);
    // The old leader, reconnected, sees the new holder and does not fight.
    store.failing.delete('a');
    await sleep(150);
    assert.equal(a.elector.isLeader(), false);
    assert.ok(a.events.includes('leader:b'));
    await Promise.all([a.elector.stop(), b.elector.stop()]);
    assert.deepEqual(
      a.events.filter((e) => e === 'started' || e === 'stopped'),
      ['started', 'stopped'],
    );
  });

  it('refuses writes once the renew deadline has passed, before its own renew timer has run', async () => {
    const store = new LeaseStore();
    const a = candidate(store, 'a');
    while (!a.elector.isLeader()) await sleep(5);
    assert.equal(a.elector.writeBlocked(), undefined);
    const term = a.signal();
    // Freeze the process past the deadline the way SIGSTOP would: no timer or I/O callback runs.
    const frozenUntil = performance.now() + timings.renewDeadlineMs + 20;
    while (performance.now() < frozenUntil);
    assert.equal(a.elector.isLeader(), true, 'the renew loop has not had a chance to run');
    assert.match(a.elector.writeBlocked() ?? '', /^lease not renewed for \d+ ms \(renew deadline 300 ms\)$/);
    // When it does run, it ends the term rather than renewing late (alone, it then campaigns
    // and wins a new term; the operator exits instead).
    while (!term?.aborted) await sleep(5);
    assert.match(String(term.reason), /leadership lost: not renewed within 300 ms/);
    assert.deepEqual(a.events.slice(0, 3), ['leader:a', 'started', 'stopped']);
    await a.elector.stop();
    assert.equal(a.elector.writeBlocked(), 'not the leader');
  });

  it('writes nothing on a read answered after its attempt gave up', async () => {
    const store = new LeaseStore();
    const a = candidate(store, 'a');
    while (!a.elector.isLeader()) await sleep(5);
    const term = a.signal();
    let release = () => {};
    store.gate = new Promise<void>((r) => (release = r));
    // Reads hang; the renew attempts time out and the term ends at the renew deadline.
    while (!term?.aborted) await sleep(5);
    await sleep(timings.renewDeadlineMs + 50);
    const releasedAt = performance.now();
    store.gate = undefined;
    release();
    // The held reads now return the lease as 'a' left it: renewable, but those held longer than
    // any attempt's time limit are too late to act on.
    while (!a.elector.isLeader()) await sleep(5);
    const tooLate = (began: number) => releasedAt - began >= timings.renewDeadlineMs;
    assert.ok(store.heldReads.some(tooLate), 'no read outlived its attempt');
    assert.deepEqual(store.writesAfterHeldReads.filter(tooLate), []);
    await a.elector.stop();
  });

  it('rejects timings that would let two leaders overlap', () => {
    const api = new LeaseStore().api('x');
    const base = { namespace: 'n', name: 'l', identity: 'x', logger };
    assert.throws(() => new LeaderElector(api, { ...base, leaseDurationMs: 10, renewDeadlineMs: 10 }));
    assert.throws(() => new LeaderElector(api, { ...base, renewDeadlineMs: 2000, retryPeriodMs: 2000 }));
    assert.throws(() => new LeaderElector(api, { ...base, identity: '' }));
  });
});
