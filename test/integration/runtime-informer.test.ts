// SupervisedInformer against a real apiserver, with network faults injected by a TCP proxy
// between the informer and the apiserver: reset connections, an outage during which objects
// change, and a silent (half-open) watch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { SupervisedInformer } from '../../src/operator/runtime/supervised-informer.js';
import {
  coreApi,
  FaultProxy,
  loadKubeConfig,
  testLogger,
  testNamespace,
  until,
} from './support/runtime-cluster.js';

describe('SupervisedInformer (real apiserver)', () => {
  it(
    'delivers events, survives resets and an outage, and relists a silent watch',
    { timeout: 120_000 },
    async (t) => {
      const kc = loadKubeConfig();
      const core = coreApi(kc);
      const ns = await testNamespace(t, core, 'rt-informer');
      const proxy = FaultProxy.forKubeConfig(kc);
      await proxy.start();
      t.after(() => proxy.close());
      const viaProxy = coreApi(proxy.kubeConfig(kc));

      const events: string[] = [];
      const reasons: string[] = [];
      const informer = new SupervisedInformer<V1ConfigMap>(proxy.kubeConfig(kc), {
        name: 'configmaps',
        path: `/api/v1/namespaces/${ns}/configmaps`,
        list: () => viaProxy.listNamespacedConfigMap({ namespace: ns }),
        logger: testLogger(),
        maxSilenceMs: 3000,
        backoff: { baseMs: 100, maxMs: 800 },
        onRestart: (r) => reasons.push(r),
      });
      for (const ev of ['add', 'update', 'delete'] as const) {
        informer.on(ev, (cm) => {
          if (cm.metadata?.name !== 'kube-root-ca.crt')
            events.push(`${ev}:${cm.metadata?.name}:${cm.data?.v ?? ''}`);
        });
      }
      t.after(() => informer.stop());
      const seen = (e: string, ms = 15_000) => until(() => events.includes(e), e, ms);
      const put = (name: string, v: string) =>
        core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name }, data: { v } } });

      await core.createNamespacedConfigMap({
        namespace: ns,
        body: { metadata: { name: 'pre' }, data: { v: '0' } },
      });
      await informer.start();
      assert.ok(events.includes('add:pre:0'), 'the initial list is delivered before start() resolves');
      assert.equal(informer.get('pre', ns)?.data?.v, '0');

      await put('a', '1');
      await seen('add:a:1');
      await core.replaceNamespacedConfigMap({
        namespace: ns,
        name: 'a',
        body: { metadata: { name: 'a' }, data: { v: '2' } },
      });
      await seen('update:a:2');

      // Connection reset: the watch must come back (by client-node's re-watch or our restart).
      proxy.resetAll();
      await put('b', '1');
      await seen('add:b:1');

      // Outage: new connections are refused while objects change; lists fail and are retried.
      const restartsBefore = informer.restarts;
      proxy.refusing = true;
      proxy.resetAll();
      await core.deleteNamespacedConfigMap({ namespace: ns, name: 'pre' });
      await put('c', '1');
      await until(() => informer.restarts >= restartsBefore + 2, 'restarts during the outage', 15_000);
      proxy.refusing = false;
      await seen('delete:pre:0');
      await seen('add:c:1');
      assert.equal(informer.get('pre', ns), undefined);

      // Half-open: the open watch stops hearing anything; only the watchdog can notice.
      await until(
        () => events.length > 0 && informer.list().some((cm) => cm.metadata?.name === 'c'),
        'cache',
        5000,
      );
      await new Promise((r) => setTimeout(r, 500)); // let the post-outage watch settle
      const silentBefore = reasons.filter((r) => r.includes('nothing heard')).length;
      proxy.blackholeOpen();
      await core.replaceNamespacedConfigMap({
        namespace: ns,
        name: 'b',
        body: { metadata: { name: 'b' }, data: { v: '2' } },
      });
      await seen('update:b:2', 20_000);
      assert.ok(
        reasons.filter((r) => r.includes('nothing heard')).length > silentBefore,
        `the watchdog restarted the informer (reasons: ${reasons.join('; ')})`,
      );
      const names = informer
        .list(ns)
        .map((cm) => cm.metadata?.name)
        .filter((n) => n !== 'kube-root-ca.crt')
        .sort();
      assert.deepEqual(names, ['a', 'b', 'c']);
    },
  );
});
