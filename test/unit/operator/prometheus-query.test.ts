// Tests our HTTP client against a tiny local server returning canned Prometheus API answers.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  PrometheusQueryError,
  queryInstant,
  scrapeTarget,
} from '../../../src/operator/runtime/prometheus-query.js';

const received: { method?: string; url?: string; body: string }[] = [];
let base = '';

function handle(req: IncomingMessage, res: ServerResponse, body: string) {
  received.push({ method: req.method, url: req.url, body });
  const query = new URLSearchParams(body).get('query') ?? '';
  const json = (status: number, payload: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(payload));
  };
  if (req.url === '/metrics') {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    return res.end('# TYPE val_loss gauge\nval_loss{trial="t1"} 0.25\nepoch 3\n');
  }
  if (req.url === '/broken/metrics') {
    res.writeHead(200);
    return res.end('val_loss{trial="t1" 0.25\n');
  }
  if (req.url === '/slow/metrics') return; // never answers
  if (req.url === '/redirect/metrics') {
    res.writeHead(302, { location: `${base}/metrics` });
    return res.end();
  }
  if (req.url === '/huge/metrics') {
    // Chunked, no content-length: only counting what arrives can stop it.
    res.writeHead(200, { 'content-type': 'text/plain' });
    const line = `x 1\n`.repeat(16 * 1024);
    let sent = 0;
    const more = () => {
      while (sent < 24) {
        sent++;
        if (!res.write(line)) return void res.once('drain', more);
      }
      res.end();
    };
    res.on('error', () => {});
    return more();
  }
  if (req.url === '/declared-huge/metrics') {
    res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
    res.on('error', () => {});
    return res.write('x 1\n');
  }
  if (req.url === '/prom/api/v1/query') {
    switch (query) {
      case 'up':
        return json(200, {
          status: 'success',
          data: {
            resultType: 'vector',
            result: [
              { metric: { __name__: 'up', job: 'a' }, value: [1700000000.1, '1'] },
              { metric: { __name__: 'up', job: 'b' }, value: [1700000000.1, 'NaN'] },
              { metric: { job: 'c' }, value: [1700000000.1, '+Inf'] },
            ],
          },
        });
      case 'scalar(1)':
        return json(200, { status: 'success', data: { resultType: 'scalar', result: [1700000000, '1.5'] } });
      case 'up[5m]':
        return json(200, { status: 'success', data: { resultType: 'matrix', result: [] } });
      case 'bad(':
        return json(400, {
          status: 'error',
          errorType: 'bad_data',
          error: 'parse error: unclosed left parenthesis',
        });
      default:
        res.writeHead(502);
        return res.end('<html>bad gateway</html>');
    }
  }
  res.writeHead(404);
  res.end();
}

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => handle(req, res, body));
});

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('queryInstant', () => {
  it('returns vector samples with labels and special values', async () => {
    const samples = await queryInstant(`${base}/prom`, 'up', { time: new Date(1700000000000) });
    assert.deepEqual(samples[0], { labels: { __name__: 'up', job: 'a' }, value: 1 });
    assert.ok(Number.isNaN(samples[1]?.value));
    assert.equal(samples[2]?.value, Infinity);
    const req = received.at(-1);
    assert.equal(req?.method, 'POST');
    assert.equal(new URLSearchParams(req?.body).get('time'), '1700000000');
  });

  it('returns a scalar as one unlabelled sample, with or without a trailing slash', async () => {
    assert.deepEqual(await queryInstant(`${base}/prom/`, 'scalar(1)'), [{ labels: {}, value: 1.5 }]);
  });

  it("carries Prometheus' error message", async () => {
    await assert.rejects(queryInstant(`${base}/prom`, 'bad('), (err: unknown) => {
      assert.ok(err instanceof PrometheusQueryError);
      assert.equal(err.status, 400);
      assert.equal(err.errorType, 'bad_data');
      assert.match(err.message, /bad_data: parse error: unclosed left parenthesis/);
      return true;
    });
    await assert.rejects(
      queryInstant(`${base}/prom`, 'up[5m]'),
      /expected a vector or scalar result, got matrix/,
    );
    await assert.rejects(queryInstant(`${base}/prom`, 'other'), /HTTP 502, not a Prometheus API response/);
  });

  it('fails clearly when nothing listens or the server hangs', async () => {
    await assert.rejects(
      queryInstant('http://127.0.0.1:1', 'up', { timeoutMs: 2000 }),
      /query "up": fetch failed/,
    );
    await assert.rejects(scrapeTarget(`${base}/slow/metrics`, { timeoutMs: 50 }), /no answer within 50 ms/);
  });
});

describe('scrapeTarget', () => {
  it('GETs and parses an exposition', async () => {
    assert.deepEqual(await scrapeTarget(`${base}/metrics`), [
      { name: 'val_loss', labels: { trial: 't1' }, value: 0.25 },
      { name: 'epoch', labels: {}, value: 3 },
    ]);
    assert.equal(received.at(-1)?.method, 'GET');
  });

  it('reports HTTP errors and parse errors', async () => {
    await assert.rejects(scrapeTarget(`${base}/missing`), /HTTP 404/);
    await assert.rejects(scrapeTarget(`${base}/broken/metrics`), /line 1: expected , or }/);
  });

  it('refuses redirects: the checked URL is the only place the operator reads', async () => {
    await assert.rejects(
      scrapeTarget(`${base}/redirect/metrics`),
      /scrape .*\/redirect\/metrics: fetch failed/,
    );
    assert.equal(received.at(-1)?.url, '/redirect/metrics', 'the redirect target was never requested');
  });

  it('abandons a body over maxBodyBytes, declared or streamed', async () => {
    await assert.rejects(
      scrapeTarget(`${base}/huge/metrics`, { maxBodyBytes: 1024 * 1024 }),
      /response larger than 1048576 bytes/,
    );
    await assert.rejects(
      scrapeTarget(`${base}/declared-huge/metrics`, { maxBodyBytes: 1024 * 1024 }),
      /response larger than 1048576 bytes/,
    );
    // The same 1.5 MiB stream fits a 2 MiB cap.
    assert.equal(
      (await scrapeTarget(`${base}/huge/metrics`, { maxBodyBytes: 2 * 1024 * 1024 })).length,
      24 * 16 * 1024,
    );
  });

  it('uses an injected fetch', async () => {
    const fetchImpl = (async () => new Response('x 1\n')) as typeof fetch;
    assert.deepEqual(await scrapeTarget('http://nowhere/metrics', { fetchImpl }), [
      { name: 'x', labels: {}, value: 1 },
    ]);
  });
});
