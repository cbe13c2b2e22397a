// Problems that retrying cannot fix end up visible on the Study (a condition and an Event)
// instead of a reconcile that fails over and over where nobody looks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestNamespace, waitFor } from './support/cluster.js';
import {
  createStudy,
  fakeTrainerTemplate,
  listTrials,
  operatorSuite,
  waitForStudyEnd,
} from './support/operator.js';

const xy = [
  { name: 'x', type: 'double', min: 0, max: 1 },
  { name: 'y', type: 'double', min: 0, max: 1 },
];

describe('operator problems on the real test cluster', () => {
  const suite = operatorSuite();

  it('ends a trial whose Job the apiserver rejects as JobRejected, and the Study says why it failed', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-reject');
    const op = suite.start(['--namespaces', ns]);
    const template = fakeTrainerTemplate(['--x=${params.x}']) as {
      spec: { template: { spec: Record<string, unknown> } };
    };
    // A Job's pods must not restart forever; the Job API refuses this with 422.
    template.spec.template.spec['restartPolicy'] = 'Always';
    await createStudy(suite.api, ns, 'rejected', {
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: { name: 'random' },
      parameters: xy,
      maxTrials: 3,
      maxFailedTrials: 0,
      trialTemplate: template,
    });
    const study = await waitForStudyEnd(suite.api, ns, 'rejected', 60_000, op);
    assert.equal(study.status?.phase, 'Failed');
    const failed = study.status?.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.reason, 'MaxFailedTrialsExceeded');
    assert.match(failed?.message ?? '', /last failure: rejected-0: JobRejected: .*restartPolicy/);
    const [trial] = await listTrials(suite.api, ns, 'rejected');
    assert.equal(trial?.status?.state, 'Failed');
    assert.equal(trial?.status?.reason, 'JobRejected');
    assert.match(trial?.status?.message ?? '', /HTTP 422: .*restartPolicy/);
    const events = await waitFor(
      async () => {
        const items = (await suite.c.core.listNamespacedEvent({ namespace: ns })).items;
        const onStudy = items.find((e) => e.involvedObject.kind === 'Study' && e.reason === 'JobRejected');
        const onTrial = items.find(
          (e) => e.involvedObject.name === 'rejected-0' && e.reason === 'TrialFailed',
        );
        return onStudy && onTrial ? { onStudy, onTrial } : undefined;
      },
      30_000,
      'JobRejected events on the Study and the Trial',
    );
    assert.equal(events.onStudy.type, 'Warning');
    assert.match(events.onTrial.message ?? '', /^JobRejected: /);
  });

  it('ends a trial whose Job a ResourceQuota refuses as JobRejected, with the quota named', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-quota');
    await suite.c.core.createNamespacedResourceQuota({
      namespace: ns,
      body: { metadata: { name: 'no-jobs' }, spec: { hard: { 'count/jobs.batch': '0' } } },
    });
    // Quota admission refuses with "status unknown" until the quota controller has counted.
    await waitFor(
      async () =>
        (await suite.c.core.readNamespacedResourceQuota({ namespace: ns, name: 'no-jobs' })).status?.hard,
      30_000,
      'the quota controller to fill in the quota status',
    );
    const op = suite.start(['--namespaces', ns]);
    await createStudy(suite.api, ns, 'quota', {
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: { name: 'random' },
      parameters: xy,
      maxTrials: 2,
      maxFailedTrials: 0,
      trialTemplate: fakeTrainerTemplate(['--x=${params.x}']),
    });
    const study = await waitForStudyEnd(suite.api, ns, 'quota', 60_000, op);
    assert.equal(study.status?.phase, 'Failed');
    const [trial] = await listTrials(suite.api, ns, 'quota');
    assert.equal(trial?.status?.state, 'Failed');
    assert.equal(trial?.status?.reason, 'JobRejected');
    assert.match(trial?.status?.message ?? '', /HTTP 403: .*exceeded quota: no-jobs/);
    const onStudy = await waitFor(
      async () =>
        (await suite.c.core.listNamespacedEvent({ namespace: ns })).items.find(
          (e) => e.involvedObject.kind === 'Study' && e.reason === 'JobRejected',
        ),
      30_000,
      'a JobRejected event on the Study',
    );
    assert.match(onStudy.message ?? '', /exceeded quota/);
  });

  it('reports an invalid spec whose message exceeds 32 KiB, cut to what the CRD accepts', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-longmsg');
    const op = suite.start(['--namespaces', ns]);
    // 120 unknown placeholders with long names: each is reported, about 100 KB in all.
    const args = Array.from({ length: 120 }, (_, i) => `--p${i}=\${params.${'z'.repeat(400)}${i}}`);
    await createStudy(suite.api, ns, 'verbose', {
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: { name: 'random' },
      parameters: xy,
      trialTemplate: fakeTrainerTemplate(args),
    });
    const study = await waitForStudyEnd(suite.api, ns, 'verbose', 30_000, op);
    const failed = study.status?.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.reason, 'InvalidSpec');
    const message = failed?.message ?? '';
    assert.ok(Array.from(message).length <= 32768, `${message.length} characters`);
    assert.match(
      message,
      /^spec\.trialTemplate\.spec\.template\.spec\.containers\[0\]\.args\[0\]: \$\{params\.z+0\} names unknown parameter/,
    );
    assert.match(message, /… \(\d+ more characters\)$/);
  });
});
