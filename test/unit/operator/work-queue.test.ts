import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkQueue } from '../../../src/operator/runtime/work-queue.js';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe('WorkQueue', () => {
  it('queues a key at most once', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    assert.equal(q.length, 2);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
    assert.equal(q.length, 0);
  });

  it('never hands a key in processing to a second worker, and re-queues it if added meanwhile', async () => {
    const q = new WorkQueue();
    const calls: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const gate = deferred();
    const firstStarted = deferred();
    const running = q.run(4, async (key) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      calls.push(key);
      if (calls.length === 1) {
        firstStarted.resolve();
        await gate.promise;
      }
      inFlight--;
    });
    q.add('a');
    await firstStarted.promise;
    q.add('a'); // dirty while processing
    q.add('a'); // merged with the dirty add
    assert.equal(q.length, 0, 'a key in processing is not queued');
    await sleep(10);
    assert.deepEqual(calls, ['a']);
    gate.resolve();
    await sleep(10);
    assert.deepEqual(calls, ['a', 'a']);
    assert.equal(maxInFlight, 1);
    q.shutDown();
    await running;
  });

  it('runs different keys concurrently up to the worker count', async () => {
    const q = new WorkQueue();
    let inFlight = 0;
    let maxInFlight = 0;
    for (const k of ['a', 'b', 'c', 'd', 'e']) q.add(k);
    q.shutDown();
    await q.run(3, async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(5);
      inFlight--;
    });
    assert.equal(maxInFlight, 3);
  });

  it('addAfter delays the key and keeps the earliest request', async () => {
    const q = new WorkQueue();
    const t0 = performance.now();
    q.addAfter('a', 60);
    q.addAfter('a', 20);
    q.addAfter('a', 200);
    assert.equal(q.length, 0);
    assert.equal(await q.get(), 'a');
    const waited = performance.now() - t0;
    assert.ok(waited >= 15 && waited < 150, `waited ${waited} ms`);
    q.done('a');
    await sleep(80);
    assert.equal(q.length, 0, 'the superseded later timers do not add it again');
  });

  it('backs off exponentially per key and forget resets it', () => {
    const delays: number[] = [];
    const q = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 40, bucket: false });
    const spy = q as unknown as { addAfter(key: string, ms: number): void };
    spy.addAfter = (_key, ms) => delays.push(ms);
    for (let i = 0; i < 6; i++) q.addRateLimited('a');
    assert.deepEqual(delays, [5, 10, 20, 40, 40, 40]);
    assert.equal(q.numRequeues('a'), 6);
    q.addRateLimited('b');
    assert.equal(delays.at(-1), 5, 'backoff is per key');
    q.forget('a');
    q.addRateLimited('a');
    assert.equal(delays.at(-1), 5);
  });

  it('the shared token bucket limits the overall retry rate', () => {
    const now = 1000;
    const delays: number[] = [];
    const q = new WorkQueue({ baseDelayMs: 1, bucket: { qps: 10, burst: 2 }, now: () => now });
    (q as unknown as { addAfter(key: string, ms: number): void }).addAfter = (_k, ms) => delays.push(ms);
    for (const k of ['a', 'b', 'c', 'd']) q.addRateLimited(k);
    assert.deepEqual(delays, [1, 1, 100, 200]);
  });

  it('re-adds a failing key with backoff and forgets it after success', async () => {
    const retries: string[] = [];
    const errors: unknown[] = [];
    const q = new WorkQueue({
      baseDelayMs: 1,
      bucket: false,
      hooks: { onRetry: (k) => retries.push(k), onError: (_k, e) => errors.push(e) },
    });
    let attempts = 0;
    const done = deferred();
    const running = q.run(1, async (key) => {
      attempts++;
      if (attempts < 4) throw new Error(`fail ${attempts}`);
      assert.equal(q.numRequeues(key), 3);
      done.resolve();
    });
    q.add('a');
    await done.promise;
    await sleep(1);
    assert.equal(q.numRequeues('a'), 0);
    assert.deepEqual(retries, ['a', 'a', 'a']);
    assert.equal(errors.length, 3);
    q.shutDown();
    await running;
  });

  it('honours requeueAfterMs and requeue results', async () => {
    const q = new WorkQueue({ baseDelayMs: 1, bucket: false });
    const seen: string[] = [];
    const running = q.run(1, async (key) => {
      seen.push(key);
      if (seen.length === 1) return { requeueAfterMs: 5 };
      if (seen.length === 2) return { requeue: true };
      return undefined;
    });
    q.add('a');
    for (let i = 0; i < 100 && seen.length < 3; i++) await sleep(2);
    assert.deepEqual(seen, ['a', 'a', 'a']);
    assert.equal(q.numRequeues('a'), 0);
    q.shutDown();
    await running;
  });

  it('shutDown drains queued keys, ignores new adds and ends run after in-flight work', async () => {
    const q = new WorkQueue();
    const seen: string[] = [];
    const gate = deferred();
    const started = deferred();
    const running = q.run(1, async (key) => {
      seen.push(key);
      if (key === 'a') {
        started.resolve();
        await gate.promise;
      }
    });
    q.add('a');
    await started.promise;
    q.add('b');
    q.addAfter('c', 1);
    q.shutDown();
    q.add('d');
    let ended = false;
    void running.then(() => (ended = true));
    await sleep(5);
    assert.equal(ended, false, 'run waits for the in-flight handler');
    gate.resolve();
    await running;
    assert.deepEqual(seen, ['a', 'b']);
  });

  it('shutDown without drain drops queued and dirty keys; an abort signal shuts down too', async () => {
    const q = new WorkQueue();
    const seen: string[] = [];
    const gate = deferred();
    const started = deferred();
    const ac = new AbortController();
    const running = q.run(
      1,
      async (key) => {
        seen.push(key);
        started.resolve();
        await gate.promise;
      },
      ac.signal,
    );
    q.add('a');
    await started.promise;
    q.add('a');
    q.add('b');
    q.shutDown({ drain: false });
    ac.abort();
    gate.resolve();
    await running;
    assert.deepEqual(seen, ['a']);
    assert.equal(q.length, 0);
  });

  it('reports depth, adds, queue latency and work duration to hooks', async () => {
    const depths: number[] = [];
    const adds: string[] = [];
    const latencies: number[] = [];
    const durations: number[] = [];
    const q = new WorkQueue({
      hooks: {
        onAdd: (k) => adds.push(k),
        onDepth: (n) => depths.push(n),
        onQueueLatency: (s) => latencies.push(s),
        onWorkDuration: (s) => durations.push(s),
      },
    });
    q.add('a');
    q.add('a');
    q.add('b');
    q.shutDown();
    await q.run(1, async () => {});
    assert.deepEqual(adds, ['a', 'b']);
    assert.deepEqual(depths, [1, 2, 1, 0]);
    assert.equal(latencies.length, 2);
    assert.equal(durations.length, 2);
    assert.ok(latencies.every((s) => s >= 0 && s < 1));
  });
});
