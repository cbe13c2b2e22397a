// The client layer's fence and timeouts. A local HTTP server stands in for the apiserver only to
// produce the faults under test (requests that hang, bodies that stall, streams left open) and to
// count what actually arrived; the real apiserver is exercised by the integration tests.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { FencedError, makeClients, RequestTimeoutError } from '../../../src/operator/kube/clients.js';
import type { Fence } from '../../../src/operator/kube/clients.js';
import { streamPodLog } from '../../../src/operator/kube/pod-logs.js';

const POD = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' } };

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** An HTTP server that records each request and hands it to the test's handler. */
async function fakeApi(t: TestContext, handler: Handler) {
  const seen: { method: string; path: string; closed: Promise<void>; socket: Socket }[] = [];
  const server = createServer((req, res) => {
    const closed = new Promise<void>((r) => res.once('close', () => r()));
    seen.push({ method: req.method ?? '', path: req.url ?? '', closed, socket: req.socket });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const arrived = async (n: number) => {
    while (seen.length < n) await new Promise((r) => setTimeout(r, 5));
    return seen[n - 1] as (typeof seen)[number];
  };
  return { kc, seen, arrived };
}

const json = (res: ServerResponse, body: unknown) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** A fence the test controls. */
function testFence() {
  const ac = new AbortController();
  let blocked: string | undefined;
  const fence: Fence = { signal: ac.signal, writeBlocked: () => blocked };
  return {
    fence,
    lose: (why: string) => ac.abort(new Error(why)),
    blockWrites: (why: string | undefined) => (blocked = why),
  };
}

describe('API clients: request timeout', () => {
  it('fails a call that gets no answer, and one whose body stalls halfway, with RequestTimeoutError', async (t) => {
    const api = await fakeApi(t, (req, res) => {
      if (req.url?.includes('/pods/stall')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"kind":"Pod",');
      }
      // Otherwise: never answer.
    });
    const { core } = makeClients(api.kc, { requestTimeoutMs: 100 });
    await assert.rejects(
      core.readNamespacedPod({ namespace: 'ns', name: 'hang' }),
      (err: Error) =>
        err instanceof RequestTimeoutError &&
        /^GET \/api\/v1\/namespaces\/ns\/pods\/hang timed out after 100 ms$/.test(err.message),
    );
    await assert.rejects(core.readNamespacedPod({ namespace: 'ns', name: 'stall' }), RequestTimeoutError);
    // The connections were given up, not left open.
    await Promise.all(api.seen.map((r) => r.closed));
  });

  it('answers normally within the default timeout', async (t) => {
    const api = await fakeApi(t, (_req, res) => json(res, POD));
    const { core } = makeClients(api.kc);
    assert.equal((await core.readNamespacedPod({ namespace: 'ns', name: 'p' })).metadata?.name, 'p');
  });
});

describe('API clients: connections', () => {
  it('sends one call after another over one kept-alive connection, not one connection each', async (t) => {
    const api = await fakeApi(t, (req, res) => json(res, req.method === 'GET' ? POD : { kind: 'Status' }));
    const { core } = makeClients(api.kc);
    for (let i = 0; i < 5; i++) {
      await core.readNamespacedPod({ namespace: 'ns', name: 'p' });
      await core.deleteNamespacedPod({ namespace: 'ns', name: 'p' });
    }
    assert.equal(api.seen.length, 10);
    assert.equal(new Set(api.seen.map((r) => r.socket)).size, 1);
  });

  it('reads one log after another over the same kept-alive connection', async (t) => {
    const api = await fakeApi(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('epoch=1 loss=0.5\n');
    });
    const { kc } = makeClients(api.kc);
    const lines: string[] = [];
    for (const pod of ['a', 'b', 'c'])
      await streamPodLog(kc, { namespace: 'ns', pod, container: 'main' }, (l) => lines.push(l));
    assert.equal(lines.length, 3);
    assert.equal(new Set(api.seen.map((r) => r.socket)).size, 1);
  });
});

/** Answers each request with the next of `answers` (a status and Retry-After, or 'reset'), then 200. */
function scripted(answers: ({ status: number; retryAfter?: string } | 'reset')[]): Handler {
  let n = 0;
  return (req, res) => {
    const answer = answers[n++];
    if (answer === undefined) return json(res, req.method === 'GET' ? POD : { kind: 'Status' });
    if (answer === 'reset') return void req.socket.resetAndDestroy();
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (answer.retryAfter !== undefined) headers['retry-after'] = answer.retryAfter;
    res.writeHead(answer.status, headers);
    res.end(JSON.stringify({ kind: 'Status', code: answer.status, message: `status ${answer.status}` }));
  };
}

describe('API clients: retries', () => {
  it('repeats any call answered 429 or 5xx with Retry-After, as the apiserver asks', async (t) => {
    const api = await fakeApi(
      t,
      scripted([
        { status: 429, retryAfter: '0' },
        { status: 503, retryAfter: '0' },
      ]),
    );
    const { core } = makeClients(api.kc);
    await core.createNamespacedPod({ namespace: 'ns', body: POD });
    assert.deepEqual(
      api.seen.map((r) => r.method),
      ['POST', 'POST', 'POST'],
    );
  });

  it('does not repeat a 5xx without Retry-After, and gives up after 5 tries', async (t) => {
    const api = await fakeApi(t, scripted([{ status: 500 }]));
    const { core } = makeClients(api.kc);
    await assert.rejects(core.readNamespacedPod({ namespace: 'ns', name: 'p' }), { code: 500 });
    assert.equal(api.seen.length, 1);

    const busy = await fakeApi(t, scripted(Array(10).fill({ status: 429, retryAfter: '0' })));
    await assert.rejects(makeClients(busy.kc).core.readNamespacedPod({ namespace: 'ns', name: 'p' }), {
      code: 429,
    });
    assert.equal(busy.seen.length, 5);
  });

  it('does not wait past the call timeout: a Retry-After beyond it returns the answer at once', async (t) => {
    const api = await fakeApi(t, scripted([{ status: 429, retryAfter: '60' }]));
    const { core } = makeClients(api.kc, { requestTimeoutMs: 10_000 });
    await assert.rejects(core.readNamespacedPod({ namespace: 'ns', name: 'p' }), { code: 429 });
    assert.equal(api.seen.length, 1);
  });

  it('repeats a read whose connection failed, but not a write, whose fate is unknown', async (t) => {
    const api = await fakeApi(t, scripted(['reset', 'reset', 'reset']));
    const { core } = makeClients(api.kc);
    assert.equal((await core.readNamespacedPod({ namespace: 'ns', name: 'p' })).metadata?.name, 'p');
    assert.equal(api.seen.length, 4);

    const writes = await fakeApi(t, scripted(['reset']));
    await assert.rejects(
      makeClients(writes.kc).core.createNamespacedPod({ namespace: 'ns', body: POD }),
      /ECONNRESET|socket hang up/,
    );
    assert.equal(writes.seen.length, 1);
  });

  it('stops waiting to retry when the fence goes down, and sends nothing more', async (t) => {
    const f = testFence();
    const busy = scripted([{ status: 429, retryAfter: '5' }]);
    const api = await fakeApi(t, (req, res) => {
      busy(req, res);
      f.lose('leadership lost: lease taken by b');
    });
    const { core } = makeClients(api.kc, { fence: f.fence });
    await assert.rejects(core.createNamespacedPod({ namespace: 'ns', body: POD }), FencedError);
    assert.equal(api.seen.length, 1);
  });
});

describe('API clients: the leadership fence', () => {
  it('cuts a call in flight when the fence goes down, and refuses later calls before sending', async (t) => {
    const api = await fakeApi(t, () => {});
    const f = testFence();
    const { core, custom } = makeClients(api.kc, { fence: f.fence });
    const pending = core.readNamespacedPod({ namespace: 'ns', name: 'p' });
    const request = await api.arrived(1);
    f.lose('leadership lost: lease taken by b');
    await assert.rejects(pending, (err: Error) => {
      assert.ok(err instanceof FencedError, String(err));
      assert.match(
        err.message,
        /^GET \/api\/v1\/namespaces\/ns\/pods\/p cut off: leadership lost: lease taken by b$/,
      );
      return true;
    });
    await request.closed;

    await assert.rejects(core.readNamespacedPod({ namespace: 'ns', name: 'p' }), /refused: leadership lost/);
    await assert.rejects(
      custom.createNamespacedCustomObject({
        group: 'g',
        version: 'v1',
        namespace: 'ns',
        plural: 'xs',
        body: {},
      }),
      FencedError,
    );
    assert.equal(api.seen.length, 1, 'a request reached the server after the fence went down');
  });

  it('refuses writes, and only writes, while writeBlocked() gives a reason', async (t) => {
    const api = await fakeApi(t, (req, res) => json(res, req.method === 'DELETE' ? { kind: 'Status' } : POD));
    const f = testFence();
    const { core, batch } = makeClients(api.kc, { fence: f.fence });
    f.blockWrites('lease not renewed for 10500 ms (renew deadline 10000 ms)');
    assert.equal((await core.readNamespacedPod({ namespace: 'ns', name: 'p' })).metadata?.name, 'p');
    assert.equal((await core.listNamespacedPod({ namespace: 'ns' })).kind, 'Pod');
    const writes = [
      () => core.createNamespacedPod({ namespace: 'ns', body: POD }),
      () => core.replaceNamespacedPod({ namespace: 'ns', name: 'p', body: POD }),
      () => core.patchNamespacedPod({ namespace: 'ns', name: 'p', body: {} }),
      () => batch.deleteNamespacedJob({ namespace: 'ns', name: 'j' }),
    ];
    for (const write of writes) {
      await assert.rejects(write(), (err: Error) => {
        assert.ok(err instanceof FencedError, String(err));
        assert.match(err.message, /refused: lease not renewed for 10500 ms \(renew deadline 10000 ms\)$/);
        return true;
      });
    }
    assert.deepEqual(
      api.seen.map((r) => r.method),
      ['GET', 'GET'],
    );
    f.blockWrites(undefined);
    await core.createNamespacedPod({ namespace: 'ns', body: POD });
    assert.deepEqual(
      api.seen.map((r) => r.method),
      ['GET', 'GET', 'POST'],
    );
  });

  it('cuts log streams and watches opened through kc, and refuses new ones before connecting', async (t) => {
    const api = await fakeApi(t, (req, res) => {
      res.writeHead(200, { 'content-type': req.url?.includes('/log') ? 'text/plain' : 'application/json' });
      res.write(
        req.url?.includes('/log')
          ? 'epoch 1 loss 0.5\n'
          : `${JSON.stringify({ type: 'ADDED', object: POD })}\n`,
      );
      // ...and the stream stays open, as a follow or a watch does.
    });
    const f = testFence();
    const { kc } = makeClients(api.kc, { fence: f.fence });
    const lines: string[] = [];
    const log = streamPodLog(kc, { namespace: 'ns', pod: 'p', container: 'c', follow: true }, (l) =>
      lines.push(l),
    );
    const events: string[] = [];
    let watchDone: (err: unknown) => void = () => {};
    const watchEnded = new Promise<unknown>((r) => (watchDone = r));
    await new Watch(kc).watch('/api/v1/namespaces/ns/pods', {}, (type) => events.push(type), watchDone);
    const [logRequest, watchRequest] = [await api.arrived(1), await api.arrived(2)];
    while (lines.length === 0 || events.length === 0) await new Promise((r) => setTimeout(r, 5));

    f.lose('leadership lost: not renewed within 10000 ms');
    await assert.rejects(log);
    assert.ok((await watchEnded) instanceof Error, 'the watch ended without an error');
    await Promise.all([logRequest.closed, watchRequest.closed]);

    await assert.rejects(
      streamPodLog(kc, { namespace: 'ns', pod: 'p', container: 'c', follow: true }, () => {}),
      (err: Error) => err instanceof FencedError && /leadership lost/.test(err.message),
    );
    await assert.rejects(
      new Watch(kc).watch(
        '/api/v1/pods',
        {},
        () => {},
        () => {},
      ),
      FencedError,
    );
    assert.equal(api.seen.length, 2, 'a stream reached the server after the fence went down');
  });
});
