// Unit tests of the supervision logic (restart, backoff, watchdog, cache reconciliation) with a
// fake informer in place of client-node's; behaviour against a real apiserver is covered by
// test/integration/runtime-informer.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import type { Informer, KubernetesListObject, KubernetesObject, ListPromise } from '@kubernetes/client-node';
import { SupervisedInformer } from '../../../src/operator/runtime/supervised-informer.js';
import type { InformerFactory } from '../../../src/operator/runtime/supervised-informer.js';
import { memoryLogger } from './support/logger.js';

type Obj = KubernetesObject;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- covers both callback shapes of Informer.on
type Cb = (arg?: any) => void;

/** Mimics ListWatch: start() emits connect, lists, and on failure emits error and resolves. */
class FakeInformer implements Informer<Obj> {
  readonly cbs = new Map<string, Cb[]>();
  stopped = false;
  constructor(private readonly listFn: ListPromise<Obj>) {}
  on(verb: string, cb: Cb): void {
    this.cbs.set(verb, [...(this.cbs.get(verb) ?? []), cb]);
  }
  off(): void {}
  emit(verb: string, arg?: unknown): void {
    for (const cb of this.cbs.get(verb) ?? []) cb(arg);
  }
  async start(): Promise<void> {
    this.emit('connect');
    let list: KubernetesListObject<Obj>;
    try {
      list = await this.listFn();
    } catch (err) {
      this.emit('error', err);
      return;
    }
    for (const o of list.items) this.emit('add', o);
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
}

const obj = (name: string, rv: string, namespace = 'ns'): Obj => ({
  metadata: { name, namespace, resourceVersion: rv },
});

function setup(
  opts: { maxSilenceMs?: number; failLists?: number; indexBy?: (o: Obj) => string | undefined } = {},
) {
  const informers: FakeInformer[] = [];
  let items: Obj[] = [obj('a', '1'), obj('b', '1')];
  let failLists = opts.failLists ?? 0;
  const list: ListPromise<Obj> = async () => {
    if (failLists > 0) {
      failLists--;
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    }
    return { metadata: { resourceVersion: '1' }, items: [...items] };
  };
  const factory: InformerFactory<Obj> = (_kc, _path, listFn) => {
    const f = new FakeInformer(listFn);
    informers.push(f);
    return f;
  };
  const { logger, records } = memoryLogger();
  const reasons: string[] = [];
  const events: string[] = [];
  const inf = new SupervisedInformer<Obj>(new KubeConfig(), {
    name: 'things',
    path: '/api/v1/things',
    list,
    logger,
    factory,
    backoff: { baseMs: 4, maxMs: 16 },
    resetAfterMs: 10_000,
    maxSilenceMs: opts.maxSilenceMs ?? 60_000,
    random: () => 1,
    onRestart: (r) => reasons.push(r),
    ...(opts.indexBy ? { indexBy: opts.indexBy } : {}),
  });
  for (const ev of ['add', 'update', 'delete'] as const) {
    inf.on(ev, (o) => events.push(`${ev}:${o.metadata?.name}@${o.metadata?.resourceVersion}`));
  }
  return {
    inf,
    informers,
    reasons,
    events,
    records,
    setItems: (next: Obj[]) => (items = next),
  };
}

const until = async (cond: () => boolean, what: string, ms = 2000) => {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
};

describe('SupervisedInformer', () => {
  it('resolves start() after the first list and serves the cache', async () => {
    const s = setup();
    await s.inf.start();
    assert.deepEqual(s.events, ['add:a@1', 'add:b@1'], 'the informer re-emitting listed objects is deduped');
    assert.equal(s.inf.get('a', 'ns')?.metadata?.resourceVersion, '1');
    assert.equal(s.inf.get('a'), undefined);
    assert.equal(s.inf.list().length, 2);
    assert.equal(s.inf.list('other').length, 0);
    s.informers[0]!.emit('update', obj('a', '2'));
    s.informers[0]!.emit('update', obj('a', '2'));
    s.informers[0]!.emit('delete', obj('b', '1'));
    s.informers[0]!.emit('delete', obj('b', '1'));
    assert.deepEqual(s.events.slice(2), ['update:a@2', 'delete:b@1']);
    await s.inf.stop();
    assert.equal(s.informers[0]!.stopped, true);
  });

  it('retries a failing initial list with growing backoff, logging why', async () => {
    const s = setup({ failLists: 3 });
    await s.inf.start();
    assert.equal(s.informers.length, 4);
    assert.equal(s.inf.restarts, 3);
    assert.ok(s.reasons.every((r) => r.includes('ECONNREFUSED')));
    const delays = s.records.filter((r) => r.msg === 'restarting informer').map((r) => r.delayMs);
    assert.deepEqual(delays, [4, 8, 16]);
    await s.inf.stop();
  });

  it('restarts after an error, ignores the old informer and reports what changed meanwhile', async () => {
    const s = setup();
    await s.inf.start();
    const [first] = s.informers;
    s.setItems([obj('a', '5'), obj('b', '1'), obj('c', '1')]);
    first!.emit('error', new Error('watch broke'));
    first!.emit('error', new Error('watch broke again')); // one restart in flight at a time
    assert.equal(first!.stopped, true);
    first!.emit('add', obj('zombie', '1'));
    await until(() => s.informers.length === 2 && s.events.length === 4, 'relist');
    assert.deepEqual(s.events.slice(2), ['update:a@5', 'add:c@1']);
    assert.equal(s.inf.restarts, 1);
    assert.deepEqual(s.reasons, ['watch or list failed: watch broke']);
    assert.equal(s.inf.get('zombie', 'ns'), undefined);

    // A deletion missed while the watch was down is reported after the relist.
    s.setItems([obj('a', '5'), obj('c', '1')]);
    s.informers[1]!.emit('error', new Error('again'));
    await until(() => s.informers.length === 3 && s.events.length === 5, 'second relist');
    assert.deepEqual(s.events.slice(4), ['delete:b@1']);
    await s.inf.stop();
  });

  it('the watchdog relists a silent watch', async () => {
    const s = setup({ maxSilenceMs: 30 });
    await s.inf.start();
    await until(() => s.inf.restarts >= 1 && s.informers.length >= 2, 'watchdog restart');
    assert.match(s.reasons[0]!, /nothing heard/);
    await s.inf.stop();
    const n = s.informers.length;
    await sleep(80);
    assert.equal(s.informers.length, n, 'no restarts after stop');
  });

  it('events keep the watchdog quiet', async () => {
    const s = setup({ maxSilenceMs: 40 });
    await s.inf.start();
    for (let i = 2; i < 12; i++) {
      s.informers[0]!.emit('update', obj('a', String(i)));
      await sleep(10);
    }
    assert.equal(s.inf.restarts, 0);
    await s.inf.stop();
  });

  it('stop() before the first successful list rejects start()', async () => {
    const s = setup({ failLists: 1000 });
    const started = s.inf.start();
    await until(() => s.informers.length >= 2, 'a retry');
    await s.inf.stop();
    await assert.rejects(started, /stopped before its first list/);
  });

  it('a throwing event handler does not break the others', async () => {
    const s = setup();
    s.inf.on('add', () => {
      throw new Error('handler bug');
    });
    await s.inf.start();
    assert.equal(s.events.length, 2);
    assert.ok(s.records.some((r) => r.msg === 'informer event handler threw'));
    await s.inf.stop();
  });

  it('keeps its index in step with updates, deletions and a relist', async () => {
    const group = (o: Obj) => o.metadata?.labels?.group;
    const s = setup({ indexBy: group });
    const grouped = (name: string, rv: string, g: string): Obj => ({
      metadata: { name, namespace: 'ns', resourceVersion: rv, labels: { group: g } },
    });
    s.setItems([grouped('a', '1', 'x'), grouped('b', '1', 'x'), obj('c', '1')]);
    await s.inf.start();
    const names = (g: string) => s.inf.indexed(g).map((o) => o.metadata?.name);
    assert.deepEqual(names('x'), ['a', 'b']);
    s.informers[0]!.emit('update', grouped('a', '2', 'y'));
    assert.deepEqual([names('x'), names('y')], [['b'], ['a']]);
    s.informers[0]!.emit('delete', grouped('a', '2', 'y'));
    assert.deepEqual(names('y'), []);
    s.setItems([obj('c', '1')]);
    s.informers[0]!.emit('error', new Error('watch broke'));
    await until(() => s.informers.length === 2 && names('x').length === 0, 'relist drops b from the index');
    await s.inf.stop();
  });
});
