import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Counter, Registry } from 'prom-client';
import { startOperatorServer } from '../../../src/operator/runtime/http-server.js';

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
});
