// The informer's list and watch requests, against a local HTTP server that drops a watch
// stream after a bookmark: the watch resumes from the bookmark without relisting.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubernetesListObject, V1Pod } from '@kubernetes/client-node';
import { makeClients } from '../../../src/operator/kube/clients.js';
import { LIST_PAGE_SIZE, paginate } from '../../../src/operator/runtime/list-watch.js';
import { SupervisedInformer } from '../../../src/operator/runtime/supervised-informer.js';
import { sendJson, startFakeApi, type FakeApi, type FakeRequest } from './support/fake-api.js';
import { memoryLogger } from './support/logger.js';

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
};
const pod = (name: string, rv: string): V1Pod => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv, labels: { big: 'x'.repeat(100) } },
  spec: { containers: [{ name: 'c', image: 'i' }], nodeName: 'n' },
});

describe('informer list and watch', () => {
  let api: FakeApi;
  before(async () => (api = await startFakeApi()));
  after(() => api.close());

  it('lists in pages, requests bookmarks, and resumes a dropped watch from the last bookmark', async () => {
    const watches: FakeRequest[] = [];
    api.route('GET', /^\/api\/v1\/namespaces\/ns\/pods$/, (req, res) => {
      if (req.query.get('watch') === 'true') {
        watches.push(req);
        res.writeHead(200, { 'content-type': 'application/json' });
        if (watches.length > 1) return void res.write(''); // stays open
        const bookmark = { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: '50' } };
        res.end(`${JSON.stringify({ type: 'BOOKMARK', object: bookmark })}\n`);
        return;
      }
      if (req.query.get('continue') === 'page-2')
        return sendJson(res, 200, { metadata: { resourceVersion: '10' }, items: [pod('b', '9')] });
      sendJson(res, 200, { metadata: { resourceVersion: '10', continue: 'page-2' }, items: [pod('a', '8')] });
    });
    const clients = makeClients(api.kc);
    const inf = new SupervisedInformer<V1Pod>(api.kc, {
      name: 'pods',
      path: '/api/v1/namespaces/ns/pods',
      list: () => paginate((page) => clients.core.listNamespacedPod({ namespace: 'ns', ...page })),
      logger: memoryLogger().logger,
      transform: (p) => ({
        metadata: { name: p.metadata?.name, namespace: 'ns', resourceVersion: p.metadata?.resourceVersion },
      }),
    });
    const events: string[] = [];
    for (const ev of ['add', 'update', 'delete'] as const)
      inf.on(ev, (p) => events.push(`${ev}:${p.metadata?.name}`));
    await inf.start();
    try {
      await until(() => watches.length === 2);
      const lists = api.requests.filter((r) => r.path.endsWith('/pods') && r.query.get('watch') !== 'true');
      assert.deepEqual(
        lists.map((r) => [r.query.get('limit'), r.query.get('continue')]),
        [
          [String(LIST_PAGE_SIZE), null],
          [String(LIST_PAGE_SIZE), 'page-2'],
        ],
        'one list, in two pages; no relist after the dropped watch',
      );
      assert.deepEqual(
        watches.map((w) => [w.query.get('allowWatchBookmarks'), w.query.get('resourceVersion')]),
        [
          ['true', '10'],
          ['true', '50'],
        ],
      );
      assert.deepEqual(events, ['add:a', 'add:b'], 'a bookmark is not a change');
      assert.deepEqual(inf.get('a', 'ns'), {
        metadata: { name: 'a', namespace: 'ns', resourceVersion: '8' },
      });
      assert.equal(inf.restarts, 0);
    } finally {
      await inf.stop();
    }
  });

  it('pages custom objects too, whose list metadata is the apiserver JSON (continue, not _continue)', async () => {
    const trial = (name: string) => ({
      apiVersion: 'kubetune.io/v1alpha1',
      kind: 'Trial',
      metadata: { name },
    });
    const path = /^\/apis\/kubetune\.io\/v1alpha1\/namespaces\/ns\/trials$/;
    api.route('GET', path, (req, res) => {
      const next = { '': 'p2', p2: 'p3' }[req.query.get('continue') ?? ''];
      const name = `t-${req.query.get('continue') ?? 'p1'}`;
      sendJson(res, 200, {
        metadata: { resourceVersion: '7', ...(next ? { continue: next } : {}) },
        items: [trial(name)],
      });
    });
    const clients = makeClients(api.kc);
    const list = await paginate(
      (page) =>
        clients.custom.listNamespacedCustomObject({
          group: 'kubetune.io',
          version: 'v1alpha1',
          namespace: 'ns',
          plural: 'trials',
          ...page,
        }) as Promise<KubernetesListObject<{ metadata: { name: string } }>>,
    );
    assert.deepEqual(
      list.items.map((t) => t.metadata.name),
      ['t-p1', 't-p2', 't-p3'],
      'every page is read',
    );
    assert.deepEqual(list.metadata, { resourceVersion: '7' });
  });

  it('falls back to one unpaginated list when the continue token expired (410)', async () => {
    const asked: { limit?: number; _continue?: string }[] = [];
    const list = await paginate<V1Pod>(async (page): Promise<KubernetesListObject<V1Pod>> => {
      asked.push(page);
      if (page._continue) throw Object.assign(new Error('HTTP 410'), { code: 410, body: '{}' });
      if (page.limit)
        return { metadata: { resourceVersion: '5', _continue: 'next' }, items: [pod('a', '1')] };
      return { metadata: { resourceVersion: '7' }, items: [pod('a', '1'), pod('b', '6')] };
    });
    assert.deepEqual(asked, [{ limit: LIST_PAGE_SIZE }, { limit: LIST_PAGE_SIZE, _continue: 'next' }, {}]);
    assert.deepEqual(
      list.items.map((p) => p.metadata?.name),
      ['a', 'b'],
    );
    assert.equal(list.metadata?.resourceVersion, '7');
  });
});
