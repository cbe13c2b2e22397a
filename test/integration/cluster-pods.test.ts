// What procnode gives a pod's processes: a loopback pod IP others can reach, the downward API,
// ServiceAccount credentials that RBAC applies to, and clear failures for images it cannot run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import {
  clients,
  createTestNamespace,
  kubectlPath,
  readPod,
  uniqueName,
  waitFor,
} from './support/cluster.js';

const c = clients();

async function waitForPhase(ns: string, name: string, phases: string[], timeoutMs = 60_000): Promise<V1Pod> {
  return waitFor(
    async () => {
      const p = await readPod(c, ns, name);
      return phases.includes(p.status?.phase ?? '') ? p : undefined;
    },
    timeoutMs,
    `pod ${name} to reach ${phases.join(' or ')}`,
  );
}

test('a pod gets its own 127.x IP on which a server it runs is reachable, and the downward API', async (t) => {
  const ns = await createTestNamespace(t, c);
  const name = uniqueName('web');
  const server = `
    const http = require('node:http');
    const keys = ['POD_IP', 'POD_NAME', 'POD_NAMESPACE', 'APP', 'GREETING'];
    const body = JSON.stringify(Object.fromEntries(keys.map((k) => [k, process.env[k]])));
    http.createServer((req, res) => res.end(body)).listen(8080, process.env.POD_IP);`;
  await c.core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name, labels: { app: 'web-test' } },
      spec: {
        terminationGracePeriodSeconds: 2,
        containers: [
          {
            name: 'web',
            image: 'docker.io/library/node:20',
            command: ['node', '-e', server],
            env: [
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
              { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
              { name: 'GREETING', value: 'hello $(POD_NAME)' },
            ],
          },
        ],
      },
    },
  });
  const pod = await waitForPhase(ns, name, ['Running']);
  const ip = pod.status?.podIP ?? '';
  assert.match(ip, /^127\.\d+\.\d+\.\d+$/);
  assert.notEqual(ip, '127.0.0.1', 'the pod has an IP of its own, not the host loopback');
  assert.equal(pod.status?.hostIP, '127.0.0.1');

  const body = await waitFor(
    async () => {
      const res = await fetch(`http://${ip}:8080/`);
      return res.ok ? ((await res.json()) as Record<string, string>) : undefined;
    },
    20_000,
    `the pod's server on ${ip}:8080`,
  );
  assert.deepEqual(body, {
    POD_IP: ip,
    POD_NAME: name,
    POD_NAMESPACE: ns,
    APP: 'web-test',
    GREETING: `hello ${name}`,
  });
});

test('a pod with a serviceAccountName acts as that ServiceAccount, so RBAC applies to it', async (t) => {
  const ns = await createTestNamespace(t, c);
  const sa = 'pod-reader';
  await c.core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: sa } } });

  const script = `
    "$KUBECTL" auth whoami -o jsonpath='{.status.userInfo.username}'; echo
    if "$KUBECTL" get pods -o name >/dev/null 2>&1; then echo ALLOWED; else echo FORBIDDEN; fi`;
  const runAs = async (): Promise<string[]> => {
    const name = uniqueName('whoami');
    await c.core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name },
        spec: {
          serviceAccountName: sa,
          restartPolicy: 'Never',
          containers: [
            {
              name: 'main',
              image: 'docker.io/bitnami/kubectl:1.34',
              command: ['sh', '-c', script],
              env: [{ name: 'KUBECTL', value: kubectlPath }],
            },
          ],
        },
      },
    });
    const done = await waitForPhase(ns, name, ['Succeeded', 'Failed']);
    const log = await c.core.readNamespacedPodLog({ namespace: ns, name });
    assert.equal(done.status?.phase, 'Succeeded', `pod failed; log:\n${log}`);
    return log.trim().split('\n');
  };

  const [who, before] = await runAs();
  assert.equal(who, `system:serviceaccount:${ns}:${sa}`);
  assert.equal(before, 'FORBIDDEN', 'a fresh ServiceAccount may not list pods');

  await c.rbac.createNamespacedRole({
    namespace: ns,
    body: {
      metadata: { name: 'read-pods' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }],
    },
  });
  await c.rbac.createNamespacedRoleBinding({
    namespace: ns,
    body: {
      metadata: { name: 'read-pods' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-pods' },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
    },
  });
  const [, after] = await runAs();
  assert.equal(after, 'ALLOWED', 'the RoleBinding grants the ServiceAccount pod reads');
});

test('a container whose image has no mapping and no command fails with a clear reason', async (t) => {
  const ns = await createTestNamespace(t, c);
  const name = uniqueName('unmapped');
  await c.core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name },
      spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'example.com/nothing/here:1.0' }] },
    },
  });
  const pod = await waitForPhase(ns, name, ['Failed'], 30_000);
  const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
  assert.equal(waiting?.reason, 'ErrImagePull');
  assert.match(waiting?.message ?? '', /example\.com\/nothing\/here.*no entrypoint mapping/);
});

test('restartPolicy OnFailure restarts a failing container and counts the restarts', async (t) => {
  const ns = await createTestNamespace(t, c);
  const name = uniqueName('flaky');
  // Fails on the first run, succeeds on the second: the sandbox persists across restarts.
  const script =
    'if [ -f "$KUBETUNE_VOLUME_WORK/ran" ]; then echo second run; exit 0; fi; touch "$KUBETUNE_VOLUME_WORK/ran"; echo first run; exit 1';
  await c.core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name },
      spec: {
        restartPolicy: 'OnFailure',
        volumes: [{ name: 'work', emptyDir: {} }],
        containers: [
          {
            name: 'main',
            image: 'docker.io/library/busybox:1.36',
            command: ['sh', '-c', script],
            volumeMounts: [{ name: 'work', mountPath: '/work' }],
          },
        ],
      },
    },
  });
  const pod = await waitForPhase(ns, name, ['Succeeded', 'Failed']);
  assert.equal(pod.status?.phase, 'Succeeded');
  const cs = pod.status?.containerStatuses?.[0];
  assert.equal(cs?.restartCount, 1);
  assert.equal(cs?.lastState?.terminated?.exitCode, 1);
  assert.equal(await c.core.readNamespacedPodLog({ namespace: ns, name }), 'second run\n');
  assert.equal(await c.core.readNamespacedPodLog({ namespace: ns, name, previous: true }), 'first run\n');
});
