import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Counter, Registry } from 'prom-client';
import { EventLoopLag } from '../../../src/operator/runtime/event-loop-lag.js';
import { startOperatorServer } from '../../../src/operator/runtime/http-server.js';
import { createOperatorMetrics } from '../../../src/operator/runtime/operator-metrics.js';

/** Keeps the event loop from running, as a long synchronous computation would. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** A connected socket, so that a request can be written synchronously, just before a stall. */
async function openConnection(port: number) {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let text = '';
  socket.setEncoding('utf8').on('data', (d: string) => (text += d));
  const ended = once(socket, 'end').then(() => text);
  return {
    send(request: string): Promise<string> {
      socket.write(request);
      return ended;
    },
  };
}

describe('operator HTTP server', () => {
  it('serves /metrics, /healthz and /readyz on a free loopback port', async (t) => {
    const registry = new Registry();
    new Counter({ name: 'kubetune_test_total', help: 'test', registers: [registry] }).inc(2);
    let ready: boolean | string = false;
    let healthy = true;
    const server = await startOperatorServer({
      port: 0,
      host: '127.0.0.1',
      registry,
      isReady: () => ready,
      isHealthy: () => healthy,
      logger: pino({ level: 'silent' }),
    });
    t.after(() => server.close());
    assert.ok(server.port > 0);
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
      return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
    };

    const metrics = await get('/metrics');
    assert.equal(metrics.status, 200);
    assert.equal(metrics.type, registry.contentType);
    assert.match(metrics.body, /^kubetune_test_total 2$/m);

    assert.deepEqual(await get('/healthz'), { status: 200, type: 'text/plain; charset=utf-8', body: 'ok\n' });
    assert.equal((await get('/readyz')).status, 503);
    ready = 'informers not synced';
    assert.deepEqual((await get('/readyz')).body, 'not ready: informers not synced\n');
    ready = true;
    assert.deepEqual((await get('/readyz')).body, 'ok\n');
    healthy = false;
    assert.equal((await get('/healthz')).status, 503);
    assert.equal((await get('/readyz?verbose')).status, 200);
    assert.equal((await get('/nope')).status, 404);
    const post = await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' });
    assert.equal(post.status, 405);
  });

  it('close() returns even with keep-alive connections open, and rejects a taken port', async () => {
    const opts = {
      port: 0,
      host: '127.0.0.1',
      registry: new Registry(),
      isReady: () => true,
      logger: pino({ level: 'silent' }),
    };
    const server = await startOperatorServer(opts);
    await (await fetch(`http://127.0.0.1:${server.port}/healthz`)).text();
    await assert.rejects(startOperatorServer({ ...opts, port: server.port }), /EADDRINUSE/);
    await server.close();
  });

  it('fails /healthz after the event loop was blocked past the limit, and reports the stall as a metric', async (t) => {
    // Windows are rotated by hand below, so the timer never does it during the test.
    const lag = new EventLoopLag({ windowMs: 3_600_000, resolutionMs: 10 });
    t.after(() => lag.stop());
    const metrics = createOperatorMetrics(undefined, { eventLoopLagSeconds: () => lag.seconds() });
    const server = await startOperatorServer({
      port: 0,
      host: '127.0.0.1',
      registry: metrics.registry,
      isReady: () => true,
      // 2 s, far above the scheduling hiccups of a busy test machine, so only the stall trips it.
      isHealthy: () => lag.verdict(2),
      logger: pino({ level: 'silent' }),
    });
    t.after(() => server.close());
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
      return { status: res.status, body: await res.text() };
    };

    // The worst case for the check: the probe is read in the same I/O turn as the callback that
    // stalls, after it and before the timers phase in which the histogram samples.
    const stallOnData = createNetServer((socket) => socket.on('data', () => stall(3000)));
    await new Promise<void>((r) => stallOnData.listen(0, '127.0.0.1', r));
    const trigger = connect((stallOnData.address() as AddressInfo).port, '127.0.0.1');
    t.after(() => {
      trigger.destroy();
      return new Promise<void>((r) => stallOnData.close(() => r()));
    });
    await once(trigger, 'connect');
    const probe = await openConnection(server.port);
    // Both connections accepted; and the histogram's first sample, which only starts its clock,
    // taken (a timer falling due after it runs after it).
    await new Promise((r) => setTimeout(r, 50));
    trigger.write('x');
    const health = await probe.send('GET /healthz HTTP/1.0\r\n\r\n');
    assert.match(health, /^HTTP\/1\.1 503 /);
    assert.match(health, /\r\n\r\nnot healthy: event loop stalled for \d+\.\d\d s \(limit 2 s\)\n$/);
    const stalled = Number(/stalled for ([\d.]+) s/.exec(health)?.[1]);
    assert.ok(stalled >= 2.5, `a 3 s stall measured as ${stalled} s`);
    const metric = /^kubetune_event_loop_lag_seconds ([\d.e+-]+)$/m.exec((await get('/metrics')).body);
    assert.ok(Number(metric?.[1]) >= 2.5, `metric: ${metric?.[0]}`);

    // The stall is remembered for the window it happened in and the next one, then forgotten.
    lag.rotate();
    assert.equal((await get('/healthz')).status, 503);
    lag.rotate();
    assert.deepEqual(await get('/healthz'), { status: 200, body: 'ok\n' });
  });
});
