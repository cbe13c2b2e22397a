// The real kube-scheduler places pods against the nodes' nvidia.com/gpu capacity.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { clients, createTestNamespace, readPod, uniqueName, waitFor } from './support/cluster.js';

const c = clients();
const GPU = 'nvidia.com/gpu';

function gpuPod(name: string, gpus: number, script: string, nodeName?: string): V1Pod {
  return {
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 2,
      // Pinning by label, not spec.nodeName, so the scheduler still does the placing.
      ...(nodeName ? { nodeSelector: { 'kubernetes.io/hostname': nodeName } } : {}),
      containers: [
        {
          name: 'main',
          image: 'docker.io/library/busybox:1.36',
          command: ['sh', '-c', script],
          resources: { limits: { [GPU]: String(gpus) }, requests: { [GPU]: String(gpus) } },
        },
      ],
    },
  };
}

test('pods asking for more GPUs than are free stay Unschedulable until capacity frees up', async (t) => {
  const ns = await createTestNamespace(t, c);
  const nodes = (await c.core.listNode()).items.filter((n) => Number(n.status?.allocatable?.[GPU] ?? 0) > 0);
  assert.ok(nodes.length > 0, 'the test cluster has GPU nodes');

  // Fill every node's GPUs.
  const hogs: string[] = [];
  for (const n of nodes) {
    const name = uniqueName('hog');
    const gpus = Number(n.status!.allocatable![GPU]);
    await c.core.createNamespacedPod({
      namespace: ns,
      body: gpuPod(name, gpus, 'sleep 600', n.metadata!.name),
    });
    hogs.push(name);
  }
  for (const name of hogs) {
    await waitFor(
      async () => (await readPod(c, ns, name)).status?.phase === 'Running',
      60_000,
      `${name} to run`,
    );
  }

  const waiter = uniqueName('waiter');
  await c.core.createNamespacedPod({ namespace: ns, body: gpuPod(waiter, 1, 'echo got a gpu') });
  const cond = await waitFor(
    async () =>
      (await readPod(c, ns, waiter)).status?.conditions?.find(
        (x) => x.type === 'PodScheduled' && x.status === 'False',
      ),
    30_000,
    'the scheduler to report the pod unschedulable',
  );
  assert.equal(cond.reason, 'Unschedulable');
  assert.match(cond.message ?? '', /Insufficient nvidia\.com\/gpu/);
  // It stays pending while the GPUs are taken.
  await new Promise((r) => setTimeout(r, 2_000));
  const still = await readPod(c, ns, waiter);
  assert.equal(still.status?.phase, 'Pending');
  assert.equal(still.spec?.nodeName, undefined);

  await c.core.deleteNamespacedPod({ namespace: ns, name: hogs[0]!, gracePeriodSeconds: 1 });
  const ran = await waitFor(
    async () => {
      const p = await readPod(c, ns, waiter);
      return p.status?.phase === 'Succeeded' ? p : undefined;
    },
    60_000,
    'the waiting pod to be scheduled and run once a GPU is free',
  );
  assert.equal(ran.spec?.nodeName, nodes[0]!.metadata!.name);
  const log = await c.core.readNamespacedPodLog({ namespace: ns, name: waiter });
  assert.equal(log, 'got a gpu\n');
});
