// The log follower's error paths against a local HTTP server: a vanished pod (404), a dropped
// stream, 503 and 429. Following a real pod's log is tested against the real test cluster.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LogFollower } from '../../../src/operator/trials/log-follower.js';
import { startFakeApi, sendStatus, type FakeApi } from './support/fake-api.js';
import { memoryLogger } from './support/logger.js';

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
};
const LOG_PATH = /^\/api\/v1\/namespaces\/ns\/pods\/[^/]+\/log$/;

describe('log follower', () => {
  let api: FakeApi;
  before(async () => (api = await startFakeApi()));
  after(() => api.close());

  const follow = (
    pod: string,
    lines: string[],
    extra: { onGone?(): void; onReconnect?(): void; containerEnded?(): boolean } = {},
  ) =>
    new LogFollower({
      kc: api.kc,
      namespace: 'ns',
      pod,
      container: 'main',
      logger: memoryLogger().logger,
      onLine: (l) => lines.push(l),
      ...extra,
    });
  const requestsFor = (pod: string) =>
    api.requests.filter((r) => r.path === `/api/v1/namespaces/ns/pods/${pod}/log`);

  it('stops for good once its pod is gone (404) instead of retrying', { timeout: 30_000 }, async () => {
    api.route('GET', LOG_PATH, (req, res) =>
      sendStatus(res, 404, 'NotFound', `pods "${req.path}" not found`),
    );
    let gone = 0;
    const follower = follow('deleted', [], { onGone: () => gone++ });
    // Either it ends, or it asks again (which it must not): whichever comes first.
    let ended = false;
    void follower.done.then(() => (ended = true));
    await until(() => ended || requestsFor('deleted').length >= 2);
    follower.stop();
    await follower.done;
    assert.equal(gone, 1);
    assert.equal(requestsFor('deleted').length, 1);
  });

  it(
    'resumes a dropped stream from the last timestamp without repeating lines',
    { timeout: 30_000 },
    async () => {
      let call = 0;
      const since: (string | null)[] = [];
      api.route('GET', LOG_PATH, (req, res) => {
        call++;
        since.push(req.query.get('sinceTime'));
        res.writeHead(200, { 'content-type': 'text/plain' });
        if (call === 1) {
          res.write('2026-01-01T00:00:01.100000000Z epoch=1 loss=3\n');
          res.write('2026-01-01T00:00:01.200000000Z epoch=2 loss=2\n');
          // Drop the connection mid-stream, as a restarting apiserver or an idle proxy does.
          setImmediate(() => res.socket?.destroy());
          return;
        }
        if (call === 2) {
          res.write('2026-01-01T00:00:01.100000000Z epoch=1 loss=3\n');
          res.write('2026-01-01T00:00:01.200000000Z epoch=2 loss=2\n');
          res.write('2026-01-01T00:00:02.000000000Z epoch=3 loss=1\n');
        }
        // Later calls: the stream stays open and idle, as for a container that prints nothing.
      });
      const lines: string[] = [];
      let reconnects = 0;
      const follower = follow('dropped', lines, { onReconnect: () => reconnects++ });
      await until(() => lines.length >= 3);
      follower.stop();
      await follower.done;
      assert.deepEqual(lines, ['epoch=1 loss=3', 'epoch=2 loss=2', 'epoch=3 loss=1']);
      assert.deepEqual(since.slice(0, 2), [null, '2026-01-01T00:00:01Z']);
      assert.ok(reconnects >= 1);
    },
  );

  it('keeps following through 503 and 429 answers', { timeout: 30_000 }, async () => {
    let call = 0;
    api.route('GET', LOG_PATH, (_req, res) => {
      call++;
      if (call === 1) return sendStatus(res, 503, 'ServiceUnavailable', 'apiserver is shutting down');
      if (call === 2)
        return sendStatus(res, 429, 'TooManyRequests', 'too many requests', { 'retry-after': '1' });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('2026-01-01T00:00:05Z epoch=1 loss=0.5\n');
    });
    const lines: string[] = [];
    let gone = 0;
    const follower = follow('flaky', lines, { onGone: () => gone++ });
    await until(() => lines.length >= 1);
    follower.stop();
    await follower.done;
    assert.deepEqual(lines, ['epoch=1 loss=0.5']);
    assert.equal(gone, 0);
    assert.equal(requestsFor('flaky').length, 3);
  });

  // A container that exited ends its stream cleanly: the whole log has been read.
  const endedStream = (pod: string) =>
    api.route('GET', new RegExp(`/pods/${pod}/log$`), (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('2026-01-01T00:00:01Z epoch=1 loss=3\n');
    });

  it('does not reopen the log of a container that has exited', { timeout: 30_000 }, async () => {
    endedStream('exited');
    const lines: string[] = [];
    let reconnects = 0;
    const follower = follow('exited', lines, { containerEnded: () => true, onReconnect: () => reconnects++ });
    let ended = false;
    void follower.done.then(() => (ended = true));
    await until(() => ended || requestsFor('exited').length >= 2);
    follower.stop();
    await follower.done;
    assert.deepEqual(lines, ['epoch=1 loss=3']);
    assert.equal(requestsFor('exited').length, 1);
    assert.equal(reconnects, 0);
  });

  it(
    'does not reopen it when the exit is known only after its stream ended',
    { timeout: 30_000 },
    async () => {
      endedStream('exiting');
      // The pod's terminated status arrives while the follower waits to reopen the ended stream.
      let asked = 0;
      const follower = follow('exiting', [], { containerEnded: () => asked++ > 0 });
      let ended = false;
      void follower.done.then(() => (ended = true));
      await until(() => ended || requestsFor('exiting').length >= 2);
      follower.stop();
      await follower.done;
      assert.equal(requestsFor('exiting').length, 1);
      assert.equal(asked, 2);
    },
  );

  it('reopens a stream that ended while its container still runs', { timeout: 30_000 }, async () => {
    endedStream('running');
    let reconnects = 0;
    const follower = follow('running', [], { containerEnded: () => false, onReconnect: () => reconnects++ });
    await until(() => requestsFor('running').length >= 2);
    follower.stop();
    await follower.done;
    assert.ok(reconnects >= 1);
  });
});
