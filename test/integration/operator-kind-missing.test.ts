// A configured trial kind whose CRD is not installed, on the real test cluster: the operator
// still becomes ready and runs Job Studies, a Study of the missing kind waits with a Degraded
// condition naming the kind and the missing CRD, and it starts once the CRD is installed. The
// CRD's group is unique to the run, so tests sharing the cluster never see it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { StudyObject } from '../../src/operator/kube/resources.js';
import { createTestNamespace, kubectl, uniqueName, waitFor } from './support/cluster.js';
import {
  createStudy,
  fakeTrainerTemplate,
  getStudy,
  listTrials,
  operatorSuite,
  waitForStudyEnd,
  type OperatorProcess,
} from './support/operator.js';

const degraded = (s: StudyObject) => s.status?.conditions?.find((c) => c.type === 'Degraded');

/** The operator's metrics port, from its startup log line. */
async function metricsPort(op: OperatorProcess): Promise<number> {
  return waitFor(
    () => {
      const m = /"port":(\d+)[^\n]*"msg":"serving \/metrics/.exec(op.output());
      return m ? Number(m[1]) : undefined;
    },
    30_000,
    `the operator to serve its metrics port; output:\n${op.output()}`,
  );
}

function gizmoCrd(group: string): string {
  return stringify({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `gizmos.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind: 'Gizmo', plural: 'gizmos', singular: 'gizmo', listKind: 'GizmoList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
            },
          },
        },
      ],
    },
  });
}

const study = (trialTemplate: Record<string, unknown>) => ({
  objective: { metric: 'loss', goal: 'minimize' },
  algorithm: { name: 'random' },
  parameters: [{ name: 'x', type: 'double', min: 0, max: 1 }],
  maxTrials: 1,
  parallelism: 1,
  seed: 3,
  trialTemplate,
});

describe('a configured trial kind whose CRD is not installed', () => {
  const suite = operatorSuite();

  it('leaves the operator ready for the other kinds, holds its Studies with a condition, and runs them once the CRD exists', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-nocrd');
    const group = `${uniqueName('nocrd')}.test.kubetune.io`;
    const dir = mkdtempSync(join(tmpdir(), 'kubetune-nocrd-'));
    const crd = join(dir, 'crd.yaml');
    writeFileSync(crd, gizmoCrd(group));
    t.after(async () => {
      await kubectl(['delete', '--ignore-not-found', '--wait=false', 'crd', `gizmos.${group}`]);
      rmSync(dir, { recursive: true, force: true });
    });
    const op = suite.start(['--namespaces', ns, '--trial-kinds', `batch/v1/Job,${group}/v1/Gizmo`]);
    const port = await metricsPort(op);
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok,
      60_000,
      `the operator to be ready without the Gizmo CRD; output:\n${op.output()}`,
    );
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, new RegExp(`kubetune_trial_kind_available\\{kind="gizmos\\.${group}"\\} 0`));

    const pod = (fakeTrainerTemplate(['--x=${params.x}', '--epochs=1']) as { spec: { template: unknown } })
      .spec.template;
    await createStudy(
      suite.api,
      ns,
      'gizmos',
      study({
        apiVersion: `${group}/v1`,
        kind: 'Gizmo',
        successCondition: 'false',
        failureCondition: 'false',
        spec: { template: pod },
      }),
    );
    await createStudy(suite.api, ns, 'jobs', study(fakeTrainerTemplate(['--x=${params.x}', '--epochs=1'])));
    const jobs = await waitForStudyEnd(suite.api, ns, 'jobs', 120_000, op);
    assert.equal(jobs.status?.phase, 'Succeeded', JSON.stringify(jobs.status?.conditions));

    const waiting = await waitFor(
      async () => {
        const s = await getStudy(suite.api, ns, 'gizmos');
        return degraded(s)?.status === 'True' ? s : undefined;
      },
      60_000,
      'the Gizmo Study to say why it waits',
    );
    assert.equal(degraded(waiting)?.reason, 'TrialKindUnavailable');
    assert.match(
      degraded(waiting)?.message ?? '',
      new RegExp(
        `^spec\\.trialTemplate: ${group.replaceAll('.', '\\.')}/v1 Gizmo is unavailable: CRD not installed \\(the API has no gizmos\\.`,
      ),
    );
    assert.deepEqual(await listTrials(suite.api, ns, 'gizmos'), [], 'no trial while the kind is missing');

    const applied = await kubectl(['create', '-f', crd]);
    assert.equal(applied.code, 0, applied.stderr);
    // The kind's informer retries with backoff (at most 30 s apart) and then lists it.
    const trial = await waitFor(
      async () => (await listTrials(suite.api, ns, 'gizmos'))[0],
      120_000,
      `a Gizmo trial once the CRD exists; output:\n${op.output().slice(-4000)}`,
    );
    await waitFor(
      async () =>
        suite.api
          .getNamespacedCustomObject({
            group,
            version: 'v1',
            namespace: ns,
            plural: 'gizmos',
            name: trial.metadata.name,
          })
          .catch(() => undefined),
      60_000,
      `Gizmo ${trial.metadata.name}`,
    );
    await waitFor(
      async () => degraded(await getStudy(suite.api, ns, 'gizmos'))?.status === 'False',
      60_000,
      'the Degraded condition to clear',
    );
  });
});
