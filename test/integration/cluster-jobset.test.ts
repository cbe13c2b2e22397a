// The JobSet controller runs for real beside the test cluster (test/cluster/jobset.sh), and
// procnode gives the pods of a JobSet the names that cluster DNS would (test/cluster/node/hosts.go):
// rank 1 of the distributed PyTorch example finds rank 0 by its JobSet hostname.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import {
  clients,
  createTestNamespace,
  freePort,
  processAlive,
  uniqueName,
  waitFor,
} from './support/cluster.js';
import {
  JOBSET_NAME_LABEL,
  createJobSet,
  deleteJobSet,
  jobSetPods,
  readJobSet,
  trueCondition,
  type JobSet,
} from './support/jobset.js';

const c = clients();
// Generous: the CPUs may be busy with other work; no assertion depends on how long anything takes.
const WAIT_MS = 240_000;
const PYTHON = '/usr/bin/python3';

/** env entries every example pod gets: its JobSet's name, rank and namespace, from the API. */
const jobSetEnv = [
  { name: 'JOBSET_NAME', valueFrom: { fieldRef: { fieldPath: `metadata.labels['${JOBSET_NAME_LABEL}']` } } },
  {
    name: 'RANK',
    valueFrom: { fieldRef: { fieldPath: "metadata.annotations['jobset.sigs.k8s.io/job-index']" } },
  },
  { name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
];

/** A JobSet of `replicas` one-pod Jobs named `w`, each running `container`. */
function jobSet(name: string, container: V1Container, replicas = 2): JobSet {
  return {
    metadata: { name },
    spec: {
      failurePolicy: { maxRestarts: 0 },
      network: { enableDNSHostnames: true },
      replicatedJobs: [
        {
          name: 'w',
          replicas,
          template: {
            spec: {
              parallelism: 1,
              completions: 1,
              backoffLimit: 0,
              template: {
                spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 5, containers: [container] },
              },
            },
          },
        },
      ],
    },
  };
}

async function completed(ns: string, name: string): Promise<void> {
  await waitFor(
    async () => {
      const js = await readJobSet(c, ns, name);
      const failed = trueCondition(js, 'Failed');
      if (failed) throw new Error(`JobSet ${name} failed: ${failed.reason}: ${failed.message}`);
      return trueCondition(js, 'Completed') !== undefined;
    },
    WAIT_MS,
    `JobSet ${name} to complete`,
  );
}

const podLog = (ns: string, pod: V1Pod) =>
  c.core.readNamespacedPodLog({ namespace: ns, name: pod.metadata!.name! });

/** The IP that `getent hosts` printed on the log line starting with `label`. */
function resolved(log: string, label: string): string {
  const m = new RegExp(`^${label} (\\S+)\\s`, 'm').exec(log);
  assert.ok(m, `no "${label}" line in the pod log:\n${log}`);
  return m[1]!;
}

test('pods of one JobSet resolve each other by hostname and subdomain to their pod IPs', async (t) => {
  const ns = await createTestNamespace(t, c, 'jobset');
  const name = uniqueName('names');
  // Each pod waits until its peer's name resolves (the peer may get its IP later), prints what
  // the resolver answers, and stays up: a pod that finished would leave DNS, as it leaves a
  // Service's endpoints, and its peer could never resolve it. The namespace's deletion ends them.
  const script = [
    'peer="$JOBSET_NAME-w-$((1 - RANK))-0.$JOBSET_NAME"',
    'echo "hostname $(hostname)"',
    'until getent hosts "$peer" >/dev/null; do sleep 0.1; done',
    'echo "short $(getent hosts "$peer")"',
    'echo "fqdn $(getent hosts "$peer.$NAMESPACE.svc.cluster.local")"',
    'echo "self $(getent hosts "$(hostname)")"',
    'exec sleep 3600',
  ].join('\n');
  await createJobSet(
    c,
    ns,
    jobSet(name, { name: 'main', image: 'kubetune.test/shell', args: [script], env: jobSetEnv }),
  );
  const { pods, logs } = await waitFor(
    async () => {
      const pods = await jobSetPods(c, ns, name);
      if (pods.length !== 2) return undefined;
      const logs = await Promise.all(pods.map((p) => podLog(ns, p)));
      return logs.every((log) => /^self /m.test(log)) && { pods, logs };
    },
    WAIT_MS,
    `both pods of JobSet ${name} to resolve each other`,
  );

  const ips = pods.map((p) => p.status?.podIP);
  assert.ok(ips[0] && ips[1] && ips[0] !== ips[1], `two distinct pod IPs: ${ips.join(', ')}`);
  for (const [i, log] of logs.entries()) {
    assert.match(
      log,
      new RegExp(`^hostname ${name}-w-${i}-0$`, 'm'),
      'the pod runs under its JobSet hostname',
    );
    assert.equal(resolved(log, 'short'), ips[1 - i], `pod ${i}: <host>.<subdomain> is the peer's pod IP`);
    assert.equal(resolved(log, 'fqdn'), ips[1 - i], `pod ${i}: the FQDN is the peer's pod IP`);
    assert.equal(resolved(log, 'self'), ips[i], `pod ${i}: its own hostname is its pod IP`);
  }
});

test('a 2-replica JobSet trains the distributed PyTorch example; rank 0 logs the metrics', async (t) => {
  try {
    execFileSync(PYTHON, ['-c', 'import torch.distributed'], { stdio: 'pipe' });
  } catch {
    throw new Error(
      `${PYTHON} cannot import torch: install python3-torch (bash scripts/ensure-test-deps.sh)`,
    );
  }
  const ns = await createTestNamespace(t, c, 'jobset');
  const name = uniqueName('ddp');
  const trainer: V1Container = {
    name: 'trainer',
    image: 'ghcr.io/kubetune/pytorch-distributed:0.1.0',
    args: ['--epochs=2', '--train-size=1000', '--val-size=200', '--hidden=32'],
    env: [
      ...jobSetEnv,
      { name: 'WORLD_SIZE', value: '2' },
      { name: 'MASTER_ADDR', value: '$(JOBSET_NAME)-w-0-0.$(JOBSET_NAME)' },
      // Pods share the host's ports on procnode, so the rendezvous port must be free there.
      { name: 'MASTER_PORT', value: String(await freePort()) },
    ],
  };
  await createJobSet(c, ns, jobSet(name, trainer));
  await completed(ns, name);

  const [rank0, rank1] = await jobSetPods(c, ns, name);
  const [log0, log1] = await Promise.all([podLog(ns, rank0!), podLog(ns, rank1!)]);
  const metric = /^epoch=(\d+) loss=[\d.]+ val_accuracy=([\d.]+) val_loss=[\d.]+ world_size=2$/gm;
  const epochs = [...log0.matchAll(metric)];
  assert.deepEqual(
    epochs.map((m) => m[1]),
    ['1', '2'],
    `rank 0 prints one metric line per epoch:\n${log0}`,
  );
  for (const m of epochs) {
    const acc = Number(m[2]);
    assert.ok(acc >= 0 && acc <= 1, `val_accuracy ${acc} is a fraction`);
  }
  assert.doesNotMatch(log1, /^epoch=/m, `rank 1 prints no metrics:\n${log1}`);
  assert.match(
    log1,
    new RegExp(`joining 2 ranks at ${name}-w-0-0\\.${name}:`),
    'rank 1 rendezvoused by name',
  );
});

test('deleting a JobSet removes its Jobs, its pods and their processes', async (t) => {
  const ns = await createTestNamespace(t, c, 'jobset');
  const name = uniqueName('del');
  await createJobSet(
    c,
    ns,
    jobSet(name, { name: 'main', image: 'kubetune.test/shell', args: ['exec sleep 3600'] }),
  );
  const pids = await waitFor(
    async () => {
      const pods = await jobSetPods(c, ns, name);
      const ids = pods.map((p) => p.status?.containerStatuses?.[0]?.containerID ?? '');
      const running = pods.length === 2 && pods.every((p) => p.status?.phase === 'Running');
      return (
        running && ids.every((id) => id.startsWith('process://')) && ids.map((id) => Number(id.slice(10)))
      );
    },
    WAIT_MS,
    `both pods of JobSet ${name} running`,
  );
  assert.ok(pids.every(processAlive), `processes ${pids.join(', ')} run`);

  await deleteJobSet(c, ns, name);
  await waitFor(
    async () => {
      const jobs = await c.batch.listNamespacedJob({
        namespace: ns,
        labelSelector: `${JOBSET_NAME_LABEL}=${name}`,
      });
      const pods = await jobSetPods(c, ns, name);
      return jobs.items.length === 0 && pods.length === 0 && !pids.some(processAlive);
    },
    WAIT_MS,
    `JobSet ${name}'s Jobs, pods and processes ${pids.join(', ')} to be gone`,
  );
});
