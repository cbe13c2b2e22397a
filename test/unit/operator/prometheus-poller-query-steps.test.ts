// The poller in mode query asks one PromQL query per metric. A local HTTP server stands in for
// Prometheus only to make a scrape land between those queries, which a real server does at
// random (test/integration/prometheus-query.test.ts runs the real one).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { V1Pod } from '@kubernetes/client-node';
import type { MetricLine } from '../../../src/metrics/line-parsers.js';
import { PrometheusPoller } from '../../../src/operator/trials/prometheus-poller.js';

/** What the stand-in's storage holds: one scrape per entry, the newest visible. */
const scrapes = [
  { epoch: 1, val_loss: 0.9 },
  { epoch: 2, val_loss: 0.5 },
];
let visible = 0;
const queries: string[] = [];

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    const query = new URLSearchParams(body).get('query') ?? '';
    queries.push(query);
    const name = query.slice(0, query.indexOf('{')) as 'epoch' | 'val_loss';
    const value = scrapes[visible]?.[name];
    // The second scrape lands right after the first poll has read the epoch.
    if (name === 'epoch' && queries.length === 1) visible = 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: { trial: 't-0' }, value: [0, String(value)] }] },
      }),
    );
  });
});

let url = '';
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('PrometheusPoller in mode query', () => {
  it('never pairs a step with values a later scrape exported', { timeout: 30_000 }, async () => {
    let report: (values: MetricLine) => void = () => {};
    const reported = new Promise<MetricLine>((resolve) => (report = resolve));
    const poller = new PrometheusPoller({
      spec: { mode: 'query', url, path: '/metrics', intervalSeconds: 0.05, metricPrefix: '' },
      tracked: ['val_loss'],
      stepKeys: ['epoch'],
      pod: {} as V1Pod,
      trial: { name: 't-0', namespace: 'ns', study: 's' },
      logger: pino({ level: 'silent' }),
      onValues: report,
    });
    const first = await reported.finally(() => poller.stop());
    const scrape = scrapes.find((s) => s.epoch === first.get('epoch'));
    assert.ok(scrape, `reported epoch ${first.get('epoch')} was exported`);
    assert.equal(first.get('val_loss'), scrape.val_loss, `val_loss reported with epoch ${scrape.epoch}`);
    assert.deepEqual(queries.slice(0, 2), ['epoch{trial="t-0"}', 'val_loss{trial="t-0"}']);
  });
});
