// Installs the Helm chart into the real test cluster: the rendered manifests pass server-side
// dry-run, RBAC is checked with `kubectl auth can-i` as the operator's ServiceAccount, and a
// namespaced install runs the operator as a pod on procnode (image ghcr.io/kubetune/operator is
// mapped to `node bin/kubetune.js operator`, with the pod's ServiceAccount token) that drives a
// Study to completion while ignoring one in a namespace it does not watch.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CoordinationV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { chartDir, helmAsync } from '../support/helm.js';
import type { Permission } from '../support/operator-rbac.js';
import {
  canIResource,
  FORBIDDEN,
  LEASE_PERMISSIONS,
  WATCHED_NAMESPACE_PERMISSIONS,
} from '../support/operator-rbac.js';
import type { AfterHook } from './support/cluster.js';
import { fakeTrainerTemplate } from './support/operator.js';
import {
  clients,
  createTestNamespace,
  kubeconfigPath,
  kubectl,
  uniqueName,
  waitFor,
} from './support/cluster.js';

const c = clients();
const custom = c.kc.makeApiClient(CustomObjectsApi);
const coordination = c.kc.makeApiClient(CoordinationV1Api);
const tmp = mkdtempSync(join(tmpdir(), 'kubetune-deploy-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const helmKube = (args: string[], timeoutMs?: number) =>
  helmAsync(['--kubeconfig', kubeconfigPath, ...args], timeoutMs ? { timeoutMs } : {});

/** Writes objects to a temp file for `kubectl apply -f`. */
function manifestFile(text: string): string {
  const file = join(tmp, `${uniqueName('m')}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** `helm install`, uninstalled (with its cluster-scoped RBAC) after the test. */
async function install(t: AfterHook, release: string, namespace: string, sets: string[]): Promise<void> {
  t.after(async () => {
    const res = await helmKube(['uninstall', release, '-n', namespace, '--wait', '--timeout', '2m']);
    if (res.code !== 0 && !/not found/.test(res.stderr)) throw new Error(`helm uninstall: ${res.stderr}`);
  });
  const args = ['install', release, chartDir, '-n', namespace, '--wait', '--timeout', '2m'];
  for (const s of sets) args.push('--set', s);
  const res = await helmKube(args, 180_000);
  if (res.code !== 0) {
    // The operator's own words say why its pods never became ready.
    const logs = await kubectl([
      'logs',
      '-n',
      namespace,
      '-l',
      `app.kubernetes.io/instance=${release}`,
      '--tail=40',
    ]);
    const pods = await kubectl(['get', 'pods', '-n', namespace, '-o', 'wide']);
    assert.fail(
      `helm ${args.join(' ')} failed:\n${res.stderr}\n${pods.stdout}\noperator logs:\n${logs.stdout}${logs.stderr}`,
    );
  }
}

/**
 * `kubectl auth can-i` as the ServiceAccount; true for "yes" (exit 0), false for "no" (exit 1).
 * Namespace "*" asks about all namespaces at once (a cluster-wide grant).
 */
async function canI(sa: string, verb: string, resource: string, namespace: string, sub?: string) {
  const args = [
    'auth',
    'can-i',
    verb,
    resource,
    ...(namespace === '*' ? ['-A'] : ['-n', namespace]),
    `--as=${sa}`,
  ];
  if (sub) args.push(`--subresource=${sub}`);
  const res = await kubectl(args);
  if (res.code > 1) throw new Error(`kubectl ${args.join(' ')}: ${res.stderr}`);
  return res.code === 0;
}

async function assertPermissions(sa: string, perms: Permission[], namespace: string, allowed: boolean) {
  for (const p of perms) {
    const { resource, subresource } = canIResource(p);
    for (const verb of p.verbs) {
      const got = await canI(sa, verb, resource, namespace, subresource);
      const what = `${verb} ${resource}${subresource ? `/${subresource}` : ''} in ${namespace}`;
      assert.equal(got, allowed, `${sa} ${allowed ? 'should' : 'should not'} be able to ${what}`);
    }
  }
}

async function assertForbidden(sa: string, namespace: string) {
  for (const f of FORBIDDEN) {
    assert.equal(
      await canI(sa, f.verb, f.resource, namespace),
      false,
      `${sa} must not ${f.verb} ${f.resource}`,
    );
  }
}

/** A small, fast Study: fake-trainer runs as a local process on procnode. */
function fakeStudy(name: string, namespace: string): string {
  return stringify({
    apiVersion: 'kubetune.io/v1alpha1',
    kind: 'Study',
    metadata: { name, namespace },
    spec: {
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: { name: 'random' },
      parameters: [
        { name: 'x', type: 'double', min: 0, max: 1 },
        // Not `y`: kubectl reads YAML 1.1, where a bare y is the boolean true.
        { name: 'width', type: 'double', min: 0, max: 1 },
      ],
      maxTrials: 3,
      parallelism: 2,
      seed: 3,
      trialTemplate: fakeTrainerTemplate(['--x=${params.x}', '--y=${params.width}', '--epochs=2']),
    },
  });
}

interface StudyObject {
  status?: { phase?: string; trials?: { total: number; succeeded: number }; bestTrial?: { value: number } };
}

async function readStudy(namespace: string, name: string): Promise<StudyObject> {
  return (await custom.getNamespacedCustomObject({
    group: 'kubetune.io',
    version: 'v1alpha1',
    namespace,
    plural: 'studies',
    name,
  })) as StudyObject;
}

describe('helm chart in the test cluster', () => {
  it('renders manifests that kube-apiserver accepts (server-side dry run)', async (t) => {
    const release = await createTestNamespace(t, c, 'kt-rel');
    const [a, b] = [await createTestNamespace(t, c, 'kt-a'), await createTestNamespace(t, c, 'kt-b')];
    const variants = [[], [`watchNamespaces={${a},${b}}`], ['replicaCount=3']];
    for (const sets of variants) {
      const args = [
        'template',
        'kt',
        chartDir,
        '-n',
        release,
        '--include-crds',
        ...sets.flatMap((s) => ['--set', s]),
      ];
      const rendered = await helmAsync(args);
      assert.equal(rendered.code, 0, rendered.stderr);
      // Every rendered object names its namespace (or is cluster-scoped), so no -n here.
      const res = await kubectl(['apply', '--dry-run=server', '-f', manifestFile(rendered.stdout)]);
      assert.equal(res.code, 0, `dry-run of ${sets.join(' ') || 'default values'} rejected:\n${res.stderr}`);
      assert.match(res.stdout, /deployment\.apps\/kt-kubetune created \(server dry run\)/);
    }
  });

  it('rejects bad values at install time with the schema message, creating nothing', async (t) => {
    const ns = await createTestNamespace(t, c, 'kt-bad');
    for (const [set, message] of [
      ['replicaCount=-1', /replicaCount.*minimum: got -1, want 0/],
      ['logLevel=loud', /logLevel.*must be one of/],
    ] as const) {
      const res = await helmKube(['install', 'bad', chartDir, '-n', ns, '--set', set]);
      assert.notEqual(res.code, 0, `helm install --set ${set} should fail`);
      assert.match(res.stderr, /values don't meet the specifications of the schema/);
      assert.match(res.stderr, message);
    }
    const list = await helmKube(['list', '-n', ns, '-q', '--all']);
    assert.equal(list.stdout.trim(), '', 'no release was recorded');
  });

  it('cluster-wide install: the ServiceAccount may do what the operator needs anywhere, and no more', async (t) => {
    const ns = await createTestNamespace(t, c, 'kt-cw');
    const elsewhere = await createTestNamespace(t, c, 'kt-any');
    const release = uniqueName('kt');
    // replicaCount 0: RBAC is what is tested here; no operator runs cluster-wide during tests.
    await install(t, release, ns, ['replicaCount=0', 'leaderElection.enabled=true']);
    const sa = `system:serviceaccount:${ns}:${release}-kubetune`;
    await assertPermissions(sa, WATCHED_NAMESPACE_PERMISSIONS, elsewhere, true);
    await assertPermissions(sa, WATCHED_NAMESPACE_PERMISSIONS, ns, true);
    await assertForbidden(sa, elsewhere);
    await assertForbidden(sa, ns);
    // The Lease: create in the release namespace; get/update only its own, by name.
    assert.equal(await canI(sa, 'create', 'leases.coordination.k8s.io', ns), true);
    for (const verb of ['get', 'update']) {
      assert.equal(await canI(sa, verb, `leases.coordination.k8s.io/${release}-kubetune`, ns), true, verb);
      assert.equal(await canI(sa, verb, 'leases.coordination.k8s.io/someone-else', ns), false, verb);
    }
    await assertPermissions(sa, LEASE_PERMISSIONS, elsewhere, false);
  });

  it('namespaced install runs the operator pod, which completes a Study in its namespace only', async (t) => {
    const ns = await createTestNamespace(t, c, 'kt-sys');
    const watched = await createTestNamespace(t, c, 'kt-team');
    const other = await createTestNamespace(t, c, 'kt-other');
    const release = uniqueName('kt');
    const fullname = `${release}-kubetune`;
    // Two replicas: leader election runs for real under the chart's Lease Role. Each pod binds
    // its own IP, as on procnode all pods share the host's network namespace.
    await install(t, release, ns, [
      `watchNamespaces={${watched}}`,
      'replicaCount=2',
      'metrics.host=$(POD_IP)',
      'logLevel=debug',
    ]);

    const sa = `system:serviceaccount:${ns}:${fullname}`;
    await assertPermissions(sa, WATCHED_NAMESPACE_PERMISSIONS, watched, true);
    await assertPermissions(sa, WATCHED_NAMESPACE_PERMISSIONS, other, false);
    await assertForbidden(sa, watched);
    assert.equal(await canI(sa, 'list', 'studies.kubetune.io', '*'), false, 'no cluster-wide list');

    const pods = await c.core.listNamespacedPod({
      namespace: ns,
      labelSelector: `app.kubernetes.io/instance=${release}`,
    });
    assert.equal(pods.items.length, 2, 'two operator pods');
    for (const p of pods.items) {
      assert.equal(p.spec?.serviceAccountName, fullname);
      assert.equal(p.status?.phase, 'Running', `operator pod ${p.metadata?.name} runs`);
    }

    const lease = await waitFor(
      async () => {
        const l = await coordination.readNamespacedLease({ namespace: ns, name: fullname });
        return l.spec?.holderIdentity ? l : undefined;
      },
      60_000,
      `Lease ${ns}/${fullname} to have a holder`,
    );
    assert.ok(lease.spec?.holderIdentity);

    const name = uniqueName('study');
    let res = await kubectl(['apply', '-f', manifestFile(fakeStudy(name, watched))]);
    assert.equal(res.code, 0, res.stderr);
    res = await kubectl(['apply', '-f', manifestFile(fakeStudy(name, other))]);
    assert.equal(res.code, 0, res.stderr);

    const done = await waitFor(
      async () => {
        const s = await readStudy(watched, name);
        return s.status?.phase === 'Succeeded' || s.status?.phase === 'Failed' ? s : undefined;
      },
      180_000,
      `Study ${watched}/${name} to finish`,
      1000,
    );
    assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status));
    assert.equal(done.status?.trials?.total, 3);
    assert.equal(done.status?.trials?.succeeded, 3);
    assert.equal(typeof done.status?.bestTrial?.value, 'number');

    // The operator never saw the Study outside its namespaces: no status, no trials.
    const ignored = await readStudy(other, name);
    assert.equal(ignored.status?.phase, undefined, 'the unwatched Study has no status');
    const trials = (await custom.listNamespacedCustomObject({
      group: 'kubetune.io',
      version: 'v1alpha1',
      namespace: other,
      plural: 'trials',
    })) as { items: unknown[] };
    assert.equal(trials.items.length, 0, 'no trials in the unwatched namespace');
  });
});
