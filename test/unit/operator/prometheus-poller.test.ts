// The Prometheus poller's error paths against a local HTTP server standing in for a trial's
// metrics endpoint and for a Prometheus server: 503, 429, 500 and dropped connections must
// neither stop the polling nor feed anything; a real trainer's endpoint is scraped in
// test/integration/operator-prometheus.test.ts.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import type { MetricLine } from '../../../src/metrics/line-parsers.js';
import { PrometheusPoller } from '../../../src/operator/trials/prometheus-poller.js';
import { memoryLogger } from './support/logger.js';

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
};

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, call: number) => void | Promise<void>,
) {
  let call = 0;
  const server = createServer((req, res) => void handler(req, res, ++call));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    calls: () => call,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

const trial = { name: 'demo-0', namespace: 'ns', study: 'demo' };
const seen = (values: MetricLine[]) => values.map((v) => Object.fromEntries(v));

describe('prometheus poller', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers) await close();
  });

  it("keeps scraping a trial's endpoint through 503s and dropped connections, and feeds only changes", async () => {
    const bodies = [
      'kubetune_trainer_epoch 1\nkubetune_trainer_loss 0.5\n',
      'kubetune_trainer_epoch 2\nkubetune_trainer_loss 0.25\n',
    ];
    const server = await serve((_req, res, call) => {
      if (call === 1) return void res.writeHead(503).end('not ready');
      if (call === 2) return void res.socket?.destroy();
      res.writeHead(200, { 'content-type': 'text/plain' });
      // Calls 3-4 see epoch 1 twice (an unchanged sample is not a new report), then epoch 2.
      res.end(bodies[call < 5 ? 0 : 1]);
    });
    closers.push(server.close);
    const values: MetricLine[] = [];
    const poller = new PrometheusPoller({
      spec: {
        mode: 'scrape',
        port: server.port,
        path: '/metrics',
        intervalSeconds: 0.01,
        metricPrefix: 'kubetune_trainer_',
      },
      tracked: ['loss'],
      stepKeys: ['epoch'],
      pod: { status: { podIP: '127.0.0.1' } },
      trial,
      logger: memoryLogger().logger,
      onValues: (v) => values.push(v),
    });
    await until(() => values.length >= 2);
    poller.stop();
    assert.deepEqual(seen(values), [
      { epoch: 1, loss: 0.5 },
      { epoch: 2, loss: 0.25 },
    ]);
    assert.ok(server.calls() >= 5);
  });

  it('keeps querying a Prometheus server through 429 and 500 answers', async () => {
    const server = await serve(async (req, res, call) => {
      if (call === 1) return void res.writeHead(429, { 'retry-after': '1' }).end('slow down');
      if (call === 2)
        return void res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: 'error', errorType: 'internal', error: 'query failed' }));
      let form = '';
      for await (const chunk of req) form += chunk;
      const query = new URLSearchParams(form).get('query') ?? '';
      const value = query.startsWith('kubetune_trainer_epoch') ? '3' : '0.125';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: {}, value: [1, value] }] },
        }),
      );
    });
    closers.push(server.close);
    const values: MetricLine[] = [];
    const poller = new PrometheusPoller({
      spec: {
        mode: 'query',
        url: `http://127.0.0.1:${server.port}`,
        intervalSeconds: 0.01,
        metricPrefix: 'kubetune_trainer_',
        path: '/metrics',
      },
      tracked: ['loss'],
      stepKeys: ['epoch'],
      pod: {},
      trial,
      logger: memoryLogger().logger,
      onValues: (v) => values.push(v),
    });
    await until(() => values.length >= 1);
    poller.stop();
    assert.deepEqual(seen(values), [{ epoch: 3, loss: 0.125 }]);
  });
});
