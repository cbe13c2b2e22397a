import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import pino from 'pino';
import {
  errorMessage,
  isAlreadyExists,
  isConflict,
  isNotFound,
} from '../../../src/operator/runtime/kube-errors.js';
import { mayAcquire } from '../../../src/operator/runtime/leader-election.js';
import { queryInstant, scrapeTarget } from '../../../src/operator/runtime/prometheus-query.js';
import { parsePrometheusText } from '../../../src/operator/runtime/prometheus-text.js';
import {
  SupervisedInformer,
  type InformerFactory,
} from '../../../src/operator/runtime/supervised-informer.js';
import { WorkQueue } from '../../../src/operator/runtime/work-queue.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('work queue', () => {
  it('queues a key once and never processes one key concurrently; an add during processing reruns it', async () => {
    const q = new WorkQueue();
    const seen: string[] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    q.add('a');
    q.add('a');
    q.add('b');
    const run = q.run(4, async (key) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      seen.push(key);
      if (key === 'a' && seen.filter((k) => k === 'a').length === 1) q.add('a');
      await sleep(20);
      concurrent--;
    });
    await sleep(120);
    q.shutDown();
    await run;
    assert.deepEqual(seen.sort(), ['a', 'a', 'b']);
    assert.ok(maxConcurrent <= 2);
  });

  it('retries a failing key with growing backoff, and forgets it after success', async () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 1000 });
    const times: number[] = [];
    q.add('k');
    const run = q.run(1, async () => {
      times.push(performance.now());
      if (times.length < 4) throw new Error('boom');
    });
    await sleep(250);
    q.shutDown();
    await run;
    assert.equal(times.length, 4);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    assert.ok(gaps[2]! > gaps[0]!, `backoff did not grow: ${gaps}`);
    assert.equal(q.retries('k'), 0);
  });

  it('delays addAfter keys', async () => {
    const q = new WorkQueue();
    const at: number[] = [];
    const start = performance.now();
    q.addAfter('x', 60);
    const run = q.run(1, async () => void at.push(performance.now() - start));
    await sleep(120);
    q.shutDown();
    await run;
    assert.equal(at.length, 1);
    assert.ok(at[0]! >= 55);
  });
});

describe('Prometheus text format', () => {
  it('reads samples, labels with escapes, special values and timestamps, skipping comments', () => {
    const samples = parsePrometheusText(
      [
        '# HELP kubetune_trainer_loss Training loss',
        '# TYPE kubetune_trainer_loss gauge',
        'kubetune_trainer_loss{study="s",trial="t-1"} 0.25',
        'kubetune_trainer_epoch 3 1700000000000',
        'weird{path="a\\"b\\\\c\\nd"} NaN',
        'up +Inf',
        'garbage line {',
      ].join('\n'),
    );
    assert.deepEqual(samples[0], {
      name: 'kubetune_trainer_loss',
      labels: { study: 's', trial: 't-1' },
      value: 0.25,
    });
    assert.equal(samples[1]!.value, 3);
    assert.equal(samples[2]!.labels['path'], 'a"b\\c\nd');
    assert.ok(Number.isNaN(samples[2]!.value));
    assert.equal(samples[3]!.value, Infinity);
    assert.equal(samples.length, 4);
  });

  it('scrapes an endpoint and queries the HTTP API (vector, scalar, error)', async () => {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/metrics') return void res.end('m{trial="a"} 1.5\n');
      const q = url.searchParams.get('query');
      const body =
        q === 'bad('
          ? { status: 'error', error: 'parse error at char 5' }
          : q === 'scalar(1)'
            ? { status: 'success', data: { resultType: 'scalar', result: [1, '1'] } }
            : {
                status: 'success',
                data: { resultType: 'vector', result: [{ metric: { trial: 'a' }, value: [1, '0.75'] }] },
              };
      res
        .writeHead(q === 'bad(' ? 400 : 200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      assert.deepEqual(await scrapeTarget(`${base}/metrics`), [
        { name: 'm', labels: { trial: 'a' }, value: 1.5 },
      ]);
      assert.deepEqual(await queryInstant(base, 'm{trial="a"}'), [{ labels: { trial: 'a' }, value: 0.75 }]);
      assert.deepEqual(await queryInstant(base, 'scalar(1)'), [{ labels: {}, value: 1 }]);
      await assert.rejects(queryInstant(base, 'bad('), /parse error at char 5/);
    } finally {
      server.close();
    }
  });
});

describe('kube errors and lease expiry', () => {
  it('tells not-found, already-exists and conflict apart and surfaces the apiserver message', () => {
    const status = (code: number, reason: string) =>
      new ApiException(code, 'x', JSON.stringify({ reason, message: `${reason} happened` }), {});
    assert.ok(isNotFound(status(404, 'NotFound')));
    assert.ok(isAlreadyExists(status(409, 'AlreadyExists')) && !isConflict(status(409, 'AlreadyExists')));
    assert.ok(isConflict(status(409, 'Conflict')) && !isAlreadyExists(status(409, 'Conflict')));
    assert.equal(errorMessage(status(422, 'Invalid')), 'Invalid happened');
  });

  it('takes a lease only when free, ours, or unchanged for a whole duration by our own clock', () => {
    assert.ok(mayAcquire(undefined, 0, 'me'));
    assert.ok(mayAcquire({ holder: 'me', observedAt: 0, durationMs: 1000 }, 10, 'me'));
    assert.ok(!mayAcquire({ holder: 'other', observedAt: 0, durationMs: 1000 }, 999, 'me'));
    assert.ok(mayAcquire({ holder: 'other', observedAt: 0, durationMs: 1000 }, 1000, 'me'));
    assert.ok(mayAcquire({ holder: undefined, observedAt: 0, durationMs: 1000 }, 1, 'me'));
  });
});

describe('supervised informer', () => {
  it('retries a failed first list, restarts after a watch error and keeps delivering events', async () => {
    let created = 0;
    const instances: { emit(ev: string, arg: unknown): void }[] = [];
    const factory = (() => {
      created++;
      const handlers: Record<string, ((o: unknown) => void)[]> = {};
      const attempt = created;
      const inner = {
        on: (ev: string, cb: (o: unknown) => void) => (handlers[ev] ??= []).push(cb),
        off: () => undefined,
        start: async () => {
          if (attempt === 1) throw new Error('connection refused');
        },
        stop: async () => undefined,
        list: () => [],
        get: () => undefined,
        emit: (ev: string, arg: unknown) => handlers[ev]?.forEach((cb) => cb(arg)),
      };
      instances.push(inner);
      return inner;
    }) as unknown as InformerFactory;
    const inf = new SupervisedInformer(undefined as never, {
      name: 't',
      path: '/x',
      list: async () => ({ items: [] }) as never,
      logger: pino({ level: 'silent' }),
      backoff: { baseMs: 5, maxMs: 20 },
      factory,
    });
    const got: string[] = [];
    inf.on('add', (o) => got.push((o as { n: string }).n));
    await inf.start();
    assert.equal(created, 2, 'the failed first list was retried');
    instances[1]!.emit('add', { n: 'one' });
    instances[1]!.emit('error', new Error('watch broke'));
    await sleep(60);
    assert.equal(created, 3, 'the informer was restarted after the error');
    assert.equal(inf.restarts, 1);
    instances[1]!.emit('add', { n: 'stale' });
    instances[2]!.emit('add', { n: 'two' });
    assert.deepEqual(got, ['one', 'two'], 'events of a replaced informer are dropped');
    inf.stop();
  });

  it('restarts a watch that has been silent too long', async () => {
    let created = 0;
    const factory = (() => {
      created++;
      return {
        on: () => undefined,
        start: async () => undefined,
        stop: async () => undefined,
        list: () => [],
        get: () => undefined,
      };
    }) as unknown as InformerFactory;
    const inf = new SupervisedInformer(undefined as never, {
      name: 's',
      path: '/x',
      list: async () => ({ items: [] }) as never,
      logger: pino({ level: 'silent' }),
      maxSilenceMs: 40,
      backoff: { baseMs: 1, maxMs: 5 },
      factory,
    });
    await inf.start();
    await sleep(150);
    inf.stop();
    assert.ok(created >= 2, `silent informer was not restarted (${created})`);
  });
});
