// Trials of a custom kind judged by CEL, on the real test cluster. Widget (a CRD installed by
// the test) has no controller: a loop in the test plays it, running each Widget's pod template
// as a Job it owns and writing the Job's outcome to the Widget's status subresource.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { V1Job } from '@kubernetes/client-node';
import { runCli } from '../support/run-cli.js';
import { createTestNamespace, isNotFound, kubectl, repoRoot, waitFor } from './support/cluster.js';
import {
  createStudy,
  fakeTrainerTemplate,
  listTrials,
  operatorSuite,
  waitForStudyEnd,
} from './support/operator.js';

const WIDGETS = { group: 'test.kubetune.io', version: 'v1', plural: 'widgets' };
const WIDGET_KIND = 'test.kubetune.io/v1/Widget';

interface Widget {
  metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string> };
  spec: { replicas?: unknown; template: Record<string, unknown> };
  status?: { phase?: string };
}

async function installWidgetCrd(): Promise<void> {
  const file = join(repoRoot, 'test/fixtures/widget-crd.yaml');
  const res = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', file]);
  if (res.code !== 0) throw new Error(`kubectl apply ${file} failed: ${res.stderr}`);
  const wait = await kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=30s',
    'crd/widgets.test.kubetune.io',
  ]);
  if (wait.code !== 0) throw new Error(`the Widget CRD is not established: ${wait.stderr}`);
}

const jobPhase = (job: V1Job) =>
  job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')
    ?.type;

/** The Widget controller: each Widget runs its template as a Job; the Job's end becomes its phase. */
function playWidgets(
  suite: ReturnType<typeof operatorSuite>,
  namespace: string,
  seen: Map<string, Widget>,
): () => Promise<void> {
  let stopped = false;
  const step = async () => {
    const list = (await suite.api.listNamespacedCustomObject({ ...WIDGETS, namespace })) as {
      items: Widget[];
    };
    for (const w of list.items) {
      seen.set(w.metadata.name, w);
      const name = `${w.metadata.name}-run`;
      let job: V1Job;
      try {
        job = await suite.c.batch.readNamespacedJob({ namespace, name });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await suite.c.batch.createNamespacedJob({
          namespace,
          body: {
            metadata: {
              name,
              ownerReferences: [
                {
                  apiVersion: 'test.kubetune.io/v1',
                  kind: 'Widget',
                  name: w.metadata.name,
                  uid: w.metadata.uid,
                  controller: true,
                  blockOwnerDeletion: true,
                },
              ],
            },
            spec: { backoffLimit: 0, template: w.spec.template },
          },
        });
        continue;
      }
      const phase = { Complete: 'Done', Failed: 'Broken' }[jobPhase(job) ?? ''] ?? 'Working';
      if (w.status?.phase !== phase)
        await suite.api.replaceNamespacedCustomObjectStatus({
          ...WIDGETS,
          namespace,
          name: w.metadata.name,
          body: { ...w, status: { phase } },
        });
    }
  };
  const loop = (async () => {
    while (!stopped) {
      // A conflict or a Widget deleted in between is retried on the next round.
      await step().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

const widgetTemplate = (successCondition: string) => ({
  apiVersion: 'test.kubetune.io/v1',
  kind: 'Widget',
  successCondition,
  failureCondition: "has(self.status) && has(self.status.phase) && self.status.phase == 'Broken'",
  spec: {
    replicas: '${params.workers}',
    template: (
      fakeTrainerTemplate(['--x=${params.workers}', '--mode=${params.mode}']) as {
        spec: { template: unknown };
      }
    ).spec.template,
  },
});

const DONE = "has(self.status) && has(self.status.phase) && self.status.phase == 'Done'";

const parameters = [
  { name: 'workers', type: 'int', min: 1, max: 2 },
  { name: 'mode', type: 'categorical', values: ['ok', 'crash'] },
];

describe('trials of a custom kind with CEL conditions on the real test cluster', () => {
  const suite = operatorSuite();
  before(installWidgetCrd);

  it('runs a Study over Widgets to the end: CEL success and failure, an integer replicas from its parameter', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-widget');
    const seen = new Map<string, Widget>();
    const stop = playWidgets(suite, ns, seen);
    t.after(stop);
    const op = suite.start(['--namespaces', ns, '--trial-kinds', `batch/v1/Job,${WIDGET_KIND}`]);
    await createStudy(suite.api, ns, 'widgets', {
      objective: { metric: 'loss', goal: 'minimize' },
      // The grid of workers × mode is exactly the four trials: two succeed and two crash.
      algorithm: { name: 'grid' },
      parameters,
      maxTrials: 4,
      parallelism: 2,
      maxFailedTrials: 2,
      trialTemplate: widgetTemplate(DONE),
    });
    const study = await waitForStudyEnd(suite.api, ns, 'widgets', 120_000, op);
    assert.equal(study.status?.phase, 'Succeeded', JSON.stringify(study.status?.conditions));
    const trials = await listTrials(suite.api, ns, 'widgets');
    assert.equal(trials.length, 4);
    for (const trial of trials) {
      const widget = seen.get(trial.metadata.name);
      assert.equal(widget?.metadata.labels?.['kubetune.io/trial'], trial.metadata.name);
      assert.equal(widget?.spec.replicas, Number(trial.spec.parameters['workers']), 'replicas is an integer');
      const stored = await suite.api
        .getNamespacedCustomObject({ ...WIDGETS, namespace: ns, name: trial.metadata.name })
        .catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
      if (trial.spec.parameters['mode'] === 'ok') {
        assert.equal(trial.status?.state, 'Succeeded', JSON.stringify(trial.status));
        assert.equal(typeof trial.status?.objective, 'number');
        assert.ok(stored, 'a succeeded trial keeps its Widget (and its logs)');
      } else {
        assert.equal(trial.status?.state, 'Failed', JSON.stringify(trial.status));
        assert.equal(trial.status?.reason, 'ExitCode');
        assert.match(trial.status?.message ?? '', /exited with code 3/);
        // Deleted whole: the Widget, and with it (Foreground) the Job it owned.
        await waitFor(
          async () =>
            (await suite.api
              .getNamespacedCustomObject({ ...WIDGETS, namespace: ns, name: trial.metadata.name })
              .then(() => undefined)
              .catch((err: unknown) => (isNotFound(err) ? true : Promise.reject(err)))) &&
            (await suite.c.batch
              .readNamespacedJob({ namespace: ns, name: `${trial.metadata.name}-run` })
              .then(() => undefined)
              .catch((err: unknown) => (isNotFound(err) ? true : Promise.reject(err)))),
          30_000,
          `the Widget ${trial.metadata.name} and its Job to be deleted`,
        );
      }
    }
    assert.equal(trials.filter((tr) => tr.status?.state === 'Succeeded').length, 2);
  });

  it('rejects a malformed successCondition in kubetune validate and in the operator, with the field and the CEL error', async (t) => {
    const bad = "self.status.phase == 'Done' &&";
    const file = join(tmpdir(), `widget-study-${process.pid}.yaml`);
    const manifest = {
      apiVersion: 'kubetune.io/v1alpha1',
      kind: 'Study',
      metadata: { name: 'bad-cel' },
      spec: {
        objective: { metric: 'loss', goal: 'minimize' },
        parameters,
        trialTemplate: widgetTemplate(bad),
      },
    };
    writeFileSync(file, JSON.stringify(manifest));
    const res = await runCli(['validate', file]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /spec\.trialTemplate\.successCondition: invalid CEL: <input>:1:\d+: /);

    const ns = await createTestNamespace(t, suite.c, 'op-badcel');
    const op = suite.start(['--namespaces', ns, '--trial-kinds', WIDGET_KIND]);
    await createStudy(suite.api, ns, 'bad-cel', manifest.spec);
    const study = await waitForStudyEnd(suite.api, ns, 'bad-cel', 30_000, op);
    const failed = study.status?.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.reason, 'InvalidSpec');
    assert.match(
      failed?.message ?? '',
      /spec\.trialTemplate\.successCondition: invalid CEL: <input>:1:\d+: /,
    );
    assert.deepEqual(await listTrials(suite.api, ns, 'bad-cel'), []);
  });

  it('refuses a kind the operator is not configured for, naming the flag', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-nokind');
    const op = suite.start(['--namespaces', ns]);
    await createStudy(suite.api, ns, 'unconfigured', {
      objective: { metric: 'loss', goal: 'minimize' },
      parameters,
      trialTemplate: widgetTemplate(DONE),
    });
    const study = await waitForStudyEnd(suite.api, ns, 'unconfigured', 30_000, op);
    const failed = study.status?.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.reason, 'InvalidSpec');
    assert.match(
      failed?.message ?? '',
      /test\.kubetune\.io\/v1 Widget is not one of the kinds this operator runs trials as \(batch\/v1 Job\).*--trial-kinds/,
    );
  });
});
