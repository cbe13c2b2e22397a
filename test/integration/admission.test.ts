// The chart's Study admission policy and the CRDs' transition rules in the real kube-apiserver,
// with users impersonated (kubectl --as): who may write which Study, what a Study may not
// change once it has trials, and the operator's own check where no admission policy applies.
// The policy is installed from `helm template` and bound only to namespaces labelled for this
// run, so other tests sharing the cluster are unaffected.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { chartDir, helmAsync } from '../support/helm.js';
import type { AfterHook } from './support/cluster.js';
import { createTestNamespace, kubectl, uniqueName, waitFor } from './support/cluster.js';
import {
  fakeTrainerTemplate,
  getStudy,
  listTrials,
  operatorSuite,
  waitForStudyEnd,
} from './support/operator.js';

const tmp = mkdtempSync(join(tmpdir(), 'kubetune-admission-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function file(text: string): string {
  const path = join(tmp, `${uniqueName('m')}.yaml`);
  writeFileSync(path, text);
  return path;
}

type Pod = { metadata?: Record<string, unknown>; spec: Record<string, unknown> };

/** A small Study on the fake trainer; `pod` edits its trial pod template. */
function studyYaml(name: string, namespace: string, pod: (p: Pod) => void = () => {}): string {
  const trialTemplate = fakeTrainerTemplate(['--x=${params.x}', '--y=${params.width}', '--epochs=2']) as {
    spec: { template: Pod };
  };
  pod(trialTemplate.spec.template);
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
      maxTrials: 2,
      parallelism: 2,
      seed: 5,
      trialTemplate,
    },
  });
}

/** The same Study with its trials as one-replica JobSets of that pod. */
function jobSetStudyYaml(name: string, namespace: string): string {
  const study = parse(studyYaml(name, namespace)) as { spec: { trialTemplate: Record<string, unknown> } };
  const job = study.spec.trialTemplate as { spec: Record<string, unknown> };
  study.spec.trialTemplate = {
    apiVersion: 'jobset.x-k8s.io/v1alpha2',
    kind: 'JobSet',
    spec: { replicatedJobs: [{ name: 'workers', replicas: 1, template: { spec: job.spec } }] },
  };
  return stringify(study);
}

const container = (p: Pod) => (p.spec['containers'] as Record<string, unknown>[])[0]!;

/** `kubectl create` of a Study as `user` (impersonated), or as the admin when undefined. */
const create = (yaml: string, user?: string) =>
  kubectl(['create', '-f', file(yaml), ...(user ? [`--as=${user}`] : [])]);

function refused(res: { code: number; stderr: string }, message: RegExp, what: string): void {
  assert.notEqual(res.code, 0, `${what} should be refused`);
  assert.match(res.stderr, message, what);
}

describe('Study admission and immutability in the real apiserver', () => {
  const suite = operatorSuite();
  const id = uniqueName('policy');
  const label = `kubetune.dev/policy-test=${id}`;
  let policyFile = '';

  before(async () => {
    const rendered = await helmAsync([
      'template',
      id,
      chartDir,
      '-s',
      'templates/admission-policy.yaml',
      '--set-json',
      `admissionPolicy.namespaceSelector={"matchLabels":{"kubetune.dev/policy-test":"${id}"}}`,
      '--set-json',
      'trialKinds=[{"apiVersion":"batch/v1","kind":"Job"},{"apiVersion":"jobset.x-k8s.io/v1alpha2","kind":"JobSet"}]',
    ]);
    assert.equal(rendered.code, 0, rendered.stderr);
    policyFile = file(rendered.stdout);
    const res = await kubectl(['apply', '-f', policyFile]);
    assert.equal(res.code, 0, res.stderr);
  });
  after(async () => {
    if (policyFile) await kubectl(['delete', '--ignore-not-found', '-f', policyFile]);
  });

  /**
   * A namespace under the policy where alice may write Studies, bob Studies and Jobs, and carol
   * Studies, Jobs and JobSets.
   */
  async function policedNamespace(t: AfterHook): Promise<string> {
    const ns = await createTestNamespace(t, suite.c, 'adm');
    const res = await kubectl(['label', 'namespace', ns, label]);
    assert.equal(res.code, 0, res.stderr);
    const rbac = suite.c.rbac;
    const role = (name: string, apiGroups: string[], resources: string[], verbs: string[]) =>
      rbac.createNamespacedRole({
        namespace: ns,
        body: { metadata: { name }, rules: [{ apiGroups, resources, verbs }] },
      });
    const bind = (role: string, user: string) =>
      rbac.createNamespacedRoleBinding({
        namespace: ns,
        body: {
          metadata: { name: `${role}-${user}` },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
        },
      });
    await role(
      'study-author',
      ['kubetune.io'],
      ['studies'],
      ['create', 'get', 'list', 'watch', 'update', 'patch'],
    );
    await role('job-creator', ['batch'], ['jobs'], ['create']);
    await role('jobset-creator', ['jobset.x-k8s.io'], ['jobsets'], ['create']);
    for (const user of ['alice', 'bob', 'carol']) await bind('study-author', user);
    await bind('job-creator', 'bob');
    await bind('job-creator', 'carol');
    await bind('jobset-creator', 'carol');
    // The policy and its namespace selector take effect asynchronously; a server-side dry run
    // of a privileged Study shows when they have.
    const probe = file(
      studyYaml('probe', ns, (p) => (container(p)['securityContext'] = { privileged: true })),
    );
    await waitFor(
      async () => {
        const r = await kubectl(['create', '--dry-run=server', '-f', probe]);
        return r.code !== 0 && /privileged containers are not allowed/.test(r.stderr);
      },
      60_000,
      `the admission policy to apply in ${ns}`,
      500,
    );
    return ns;
  }

  it('refuses a Study from a user who may create Studies but not Jobs, saying why', async (t) => {
    const ns = await policedNamespace(t);
    const can = await kubectl(['auth', 'can-i', 'create', 'studies.kubetune.io', '-n', ns, '--as=alice']);
    assert.equal(can.stdout.trim(), 'yes', 'RBAC lets alice create Studies');
    const res = await create(studyYaml('by-alice', ns), 'alice');
    refused(
      res,
      new RegExp(
        `ValidatingAdmissionPolicy .* denied request: user alice may not create jobs\\.batch \\(batch/v1 Job\\) in namespace ${ns}: `,
      ),
      'alice',
    );
    const got = await kubectl(['get', 'study', 'by-alice', '-n', ns]);
    assert.notEqual(got.code, 0, 'nothing was stored');
  });

  it('refuses a JobSet Study from a user who may create Jobs but not JobSets, and admits one who may', async (t) => {
    const ns = await policedNamespace(t);
    const can = await kubectl(['auth', 'can-i', 'create', 'jobs.batch', '-n', ns, '--as=bob']);
    assert.equal(can.stdout.trim(), 'yes', 'RBAC lets bob create Jobs');
    const res = await create(jobSetStudyYaml('jobset-by-bob', ns), 'bob');
    refused(
      res,
      new RegExp(
        `user bob may not create jobsets\\.jobset\\.x-k8s\\.io \\(jobset\\.x-k8s\\.io/v1alpha2 JobSet\\) in namespace ${ns}: the operator creates the trials of this Study as JobSet objects`,
      ),
      'bob',
    );
    assert.notEqual((await kubectl(['get', 'study', 'jobset-by-bob', '-n', ns])).code, 0, 'nothing stored');
    const ok = await create(jobSetStudyYaml('jobset-by-carol', ns), 'carol');
    assert.equal(ok.code, 0, `carol may create JobSets: ${ok.stderr}`);
    const job = await create(studyYaml('job-by-bob', ns), 'bob');
    assert.equal(job.code, 0, `a Job Study from bob is admitted as before: ${job.stderr}`);
  });

  it('refuses a Study whose trial kind is not one of trialKinds, even from the cluster admin', async (t) => {
    const ns = await policedNamespace(t);
    const study = parse(studyYaml('trainjob', ns)) as { spec: { trialTemplate: Record<string, unknown> } };
    Object.assign(study.spec.trialTemplate, {
      apiVersion: 'trainer.kubeflow.org/v1alpha1',
      kind: 'TrainJob',
    });
    refused(
      await create(stringify(study)),
      /spec\.trialTemplate: trainer\.kubeflow\.org\/v1alpha1 TrainJob is not one of the kinds this operator runs trials as \(batch\/v1 Job, jobset\.x-k8s\.io\/v1alpha2 JobSet\); an administrator adds it with the Helm value trialKinds/,
      'a TrainJob Study',
    );
  });

  it('refuses privileged, hostPath, nodeName and foreign-ServiceAccount trials from a user who may create Jobs', async (t) => {
    const ns = await policedNamespace(t);
    const cases: [string, (p: Pod) => void, RegExp][] = [
      [
        'privileged',
        (p) => (container(p)['securityContext'] = { privileged: true }),
        /container "train" securityContext\.privileged is true: privileged containers are not allowed \(Pod Security baseline\)/,
      ],
      [
        'host-path',
        (p) => {
          p.spec['volumes'] = [{ name: 'root', hostPath: { path: '/' } }];
          container(p)['volumeMounts'] = [{ name: 'root', mountPath: '/host' }];
        },
        /volume "root" hostPath is set: hostPath volumes are not allowed/,
      ],
      [
        'node-name',
        (p) => (p.spec['nodeName'] = 'kubetune-node-0'),
        /spec\.nodeName is "kubetune-node-0": nodeName bypasses the scheduler/,
      ],
      [
        'builder-sa',
        (p) => (p.spec['serviceAccountName'] = 'builder'),
        /the pod would run as ServiceAccount "builder": .*\(allowed: default\)/,
      ],
    ];
    for (const [name, edit, message] of cases)
      refused(await create(studyYaml(name, ns, edit), 'bob'), message, name);
  });

  it('admits a normal user; once the Study has trials its parameters and objective and its finished trials are frozen', async (t) => {
    const ns = await policedNamespace(t);
    const name = 'by-bob';
    const res = await create(studyYaml(name, ns), 'bob');
    assert.equal(res.code, 0, res.stderr);
    const op = suite.start(['--namespaces', ns]);
    const done = await waitForStudyEnd(suite.api, ns, name, 120_000, op);
    assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status?.conditions));

    const patch = (ops: unknown[], user?: string) =>
      kubectl([
        'patch',
        'study',
        name,
        '-n',
        ns,
        '--type=json',
        '-p',
        JSON.stringify(ops),
        ...(user ? [`--as=${user}`] : []),
      ]);
    refused(
      await patch([{ op: 'replace', path: '/spec/parameters/0/max', value: 0.5 }], 'bob'),
      /spec\.parameters cannot change once the Study has trials/,
      'a new search space',
    );
    refused(
      await patch([{ op: 'replace', path: '/spec/objective/goal', value: 'maximize' }]),
      /spec\.objective cannot change once the Study has trials/,
      'a new objective, even from the cluster admin',
    );
    const other = await patch([{ op: 'replace', path: '/spec/maxTrials', value: 3 }], 'bob');
    assert.equal(other.code, 0, `other fields may change: ${other.stderr}`);
    assert.equal(((await getStudy(suite.api, ns, name)).spec as { maxTrials: number }).maxTrials, 3);

    const [trial] = await listTrials(suite.api, ns, name);
    assert.equal(trial?.status?.state, 'Succeeded');
    const overwrite = await kubectl([
      'patch',
      'trial',
      trial.metadata.name,
      '-n',
      ns,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { state: 'Failed', objective: 0 } }),
    ]);
    refused(overwrite, /a finished Trial .* keeps its state and objective/, 'overwriting a finished Trial');
  });

  it('refuses a Study whose name leaves no room for its trial pod names', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'adm-name');
    const long = `s${'a'.repeat(51)}`;
    const yaml = studyYaml(long, ns).replace('maxTrials: 2', 'maxTrials: 100000');
    refused(await create(yaml), /metadata\.name is too long for spec\.maxTrials/, 'a 52-character name');
    const fits = await create(yaml.replaceAll(long, long.slice(0, 51)));
    assert.equal(fits.code, 0, `51 characters fit: ${fits.stderr}`);
  });

  it('without the admission policy, the operator ends a privileged Study as InvalidSpec with the field path', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'adm-op');
    const res = await create(
      studyYaml('unpoliced', ns, (p) => (container(p)['securityContext'] = { privileged: true })),
    );
    assert.equal(res.code, 0, `no policy here: ${res.stderr}`);
    const op = suite.start(['--namespaces', ns]);
    const done = await waitForStudyEnd(suite.api, ns, 'unpoliced', 60_000, op);
    assert.equal(done.status?.phase, 'Failed');
    const failed = done.status?.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.reason, 'InvalidSpec');
    assert.match(
      failed?.message ?? '',
      /^spec\.trialTemplate\.spec\.template\.spec\.containers\[0\]\.securityContext\.privileged is true: privileged containers are not allowed/,
    );
    assert.deepEqual(await listTrials(suite.api, ns, 'unpoliced'), [], 'no trial, so no Job, was created');
  });
});
