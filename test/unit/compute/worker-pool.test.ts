import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { BudgetExceededError, WorkerPool } from '../../../src/operator/compute/worker-pool.js';

const TEST_WORKER = new URL('./test-worker.ts', import.meta.url);
type Echo = { value: unknown; threadId: number };

describe('worker pool', () => {
  const pools: WorkerPool[] = [];
  const pool = (size: number) => {
    const p = new WorkerPool({ size, workerUrl: TEST_WORKER });
    pools.push(p);
    return p;
  };
  after(async () => {
    for (const p of pools) await p.close();
  });

  it('answers tasks in worker threads', async () => {
    const p = pool(2);
    const answers = await Promise.all(
      [1, 2, 3, 4, 5].map((v) => p.run<Echo>({ kind: 'echo', value: v }, 60_000)),
    );
    assert.deepEqual(
      answers.map((a) => a.value),
      [1, 2, 3, 4, 5],
    );
    for (const a of answers) assert.ok(a.threadId > 0, 'ran off the main thread');
  });

  it('terminates a task past its budget and serves the next one from a fresh worker', async () => {
    const p = pool(1);
    const before = await p.run<Echo>({ kind: 'echo', value: 'a' }, 60_000);
    const spinning = p.run({ kind: 'spin' }, 50);
    const queued = p.run<Echo>({ kind: 'echo', value: 'b' }, 60_000);
    await assert.rejects(
      spinning,
      (err: unknown) => err instanceof BudgetExceededError && err.budgetMs === 50,
    );
    const next = await queued;
    assert.equal(next.value, 'b');
    assert.notEqual(next.threadId, before.threadId, 'the spinning worker was replaced');
  });

  it('keeps a stuck task from holding up the other workers', async () => {
    const p = pool(2);
    const spinning = p.run({ kind: 'spin' }, 60_000);
    const answers = await Promise.all([1, 2, 3].map((v) => p.run<Echo>({ kind: 'echo', value: v }, 60_000)));
    assert.deepEqual(
      answers.map((a) => a.value),
      [1, 2, 3],
    );
    const stopped = assert.rejects(spinning, /closed/);
    await p.close();
    await stopped;
  });

  it('passes a task error through and survives a worker that exits', async () => {
    const p = pool(1);
    await assert.rejects(p.run({ kind: 'fail' }, 60_000), /the task failed/);
    await assert.rejects(p.run({ kind: 'exit' }, 60_000), /exited with code 3/);
    assert.equal((await p.run<Echo>({ kind: 'echo', value: 'c' }, 60_000)).value, 'c');
  });

  it('refuses work once closed and rejects a size below one', async () => {
    const p = pool(1);
    await p.close();
    await assert.rejects(p.run({ kind: 'echo' }, 1000), /closed/);
    assert.throws(
      () => new WorkerPool({ size: 0, workerUrl: TEST_WORKER }),
      /size must be a whole number >= 1/,
    );
  });
});
