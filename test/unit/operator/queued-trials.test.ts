// Trials of a study that names a Kueue LocalQueue, at the reconciler seam (a local HTTP server
// serving one study's objects, see support/fake-study-api.ts): what the operator decides from a
// suspended Job, an admission and a preemption. Kueue itself is exercised for real in
// test/integration/operator-kueue.test.ts.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { makeClients } from '../../../src/operator/kube/clients.js';
import type { ParsedStudy } from '../../../src/operator/kube/resources.js';
import { createEventRecorder } from '../../../src/operator/events.js';
import { StudyReconciler } from '../../../src/operator/study/study-reconciler.js';
import { buildTrialWorkload } from '../../../src/operator/trials/job-builder.js';
import { TrialMetricsTracker } from '../../../src/operator/trials/metrics-tracker.js';
import { spec } from '../../support/specs.js';
import { startFakeApi, type FakeApi } from './support/fake-api.js';
import {
  emptyWorld,
  PARAMS,
  serveStudy,
  studyObject,
  trialObject,
  type StudyWorld,
} from './support/fake-study-api.js';
import { memoryLogger } from './support/logger.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000);
const QUEUE = 'kueue.x-k8s.io/queue-name';

const queuedStudy = (overrides: Record<string, unknown> = {}) =>
  studyObject({ maxTrials: 3, queueName: 'team-a', pendingTimeoutSeconds: 60, ...overrides });

/** The trial's Job as Kueue and the Job controller leave it: created long ago, suspended or admitted at `admitted`. */
function queuedJob(trial: string, admitted?: Date): V1Job {
  return {
    metadata: {
      name: trial,
      namespace: 'ns',
      uid: `uid-job-${trial}`,
      creationTimestamp: ago(3600),
      labels: { 'kubetune.io/study': 'demo', [QUEUE]: 'team-a' },
    },
    spec: { suspend: admitted === undefined, template: { spec: { containers: [] } } },
    status: admitted
      ? {
          startTime: admitted,
          conditions: [
            {
              type: 'Suspended',
              status: 'False',
              reason: 'JobResumed',
              lastTransitionTime: admitted,
            } as never,
          ],
        }
      : { conditions: [{ type: 'Suspended', status: 'True', reason: 'JobSuspended' } as never] },
  };
}

function pod(trial: string, name: string, phase: string, created: Date): V1Pod {
  return {
    metadata: {
      name,
      namespace: 'ns',
      creationTimestamp: created,
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: trial, uid: `uid-job-${trial}` }],
    },
    status: { phase, startTime: created },
  };
}

const pendingWorkload = (trial: string) => ({
  metadata: {
    name: `job-${trial}-1a2b3`,
    ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: trial, uid: `uid-job-${trial}` }],
  },
  status: {
    conditions: [
      {
        type: 'QuotaReserved',
        status: 'False',
        reason: 'Pending',
        message:
          "couldn't assign flavors to pod set main: insufficient quota for nvidia.com/gpu in flavor gpus",
      },
    ],
  },
});

describe('queued trials (Kueue) at the reconciler seam', () => {
  let api: FakeApi;
  let world: StudyWorld;
  let tracker: TrialMetricsTracker;
  let reconciler: StudyReconciler;
  const trial = (name: string) => world.trials.find((t) => t.metadata.name === name);

  before(async () => (api = await startFakeApi()));
  after(() => api.close());
  beforeEach(() => {
    world = emptyWorld(queuedStudy());
    serveStudy(api, world);
    const { logger } = memoryLogger();
    const clients = makeClients(api.kc);
    tracker = new TrialMetricsTracker({
      kc: api.kc,
      logger,
      recordProgress: async () => {},
      onProgress: () => {},
    });
    reconciler = new StudyReconciler({
      clients,
      tracker,
      events: createEventRecorder(clients.core, logger),
      logger,
      now: () => NOW,
    });
  });
  afterEach(() => tracker.stopAll());

  it('keeps a trial Queued, with the Workload pending reason, long past pendingTimeoutSeconds, and plans no trial beyond parallelism', async () => {
    world.trials.push(trialObject(0, { state: 'Pending', jobName: 'demo-0' }));
    world.jobs.push(queuedJob('demo-0'));
    world.workloads.push(pendingWorkload('demo-0'));
    const result = await reconciler.reconcile('ns', 'demo');
    const t = trial('demo-0');
    assert.equal(t?.status?.state, 'Queued', `${t?.status?.reason}: ${t?.status?.message}`);
    assert.equal(t?.status?.reason, 'Pending');
    assert.match(t?.status?.message ?? '', /insufficient quota for nvidia\.com\/gpu/);
    assert.equal(world.trials.length, 1, 'a queued trial holds its parallelism slot');
    assert.equal(world.study.status?.trials?.queued, 1);
    assert.ok(result.requeueAfterMs !== undefined, 'a queued trial is looked at again');
  });

  it('starts the pending clock at admission: not timed out just after it, PendingTimeout once it ran out', async () => {
    world.trials.push(trialObject(0, { state: 'Queued', jobName: 'demo-0' }));
    world.jobs.push(queuedJob('demo-0', ago(10)));
    await reconciler.reconcile('ns', 'demo');
    assert.equal(trial('demo-0')?.status?.state, 'Pending', trial('demo-0')?.status?.message);
    assert.equal(trial('demo-0')?.status?.reason, 'Admitted');

    world.jobs = [queuedJob('demo-0', ago(61))];
    await reconciler.reconcile('ns', 'demo');
    assert.equal(trial('demo-0')?.status?.state, 'Failed');
    assert.equal(trial('demo-0')?.status?.reason, 'PendingTimeout');
  });

  it('counts a re-admitted trial from its new admission, not from its first attempt pod', async () => {
    world.trials.push(
      trialObject(0, { state: 'Queued', jobName: 'demo-0', podName: 'demo-0-a', attempts: 2 }),
    );
    world.jobs.push(queuedJob('demo-0', ago(5)));
    world.pods.push(pod('demo-0', 'demo-0-a', 'Failed', ago(3000)));
    await reconciler.reconcile('ns', 'demo');
    assert.equal(trial('demo-0')?.status?.state, 'Pending', trial('demo-0')?.status?.message);
  });

  it('sends a preempted running trial back to Queued with attempts+1, its values dropped, never Failed', async () => {
    world.trials.push(
      trialObject(0, {
        state: 'Running',
        jobName: 'demo-0',
        podName: 'demo-0-a',
        startTime: ago(100).toISOString(),
        intermediate: [{ step: 1, value: 0.5 }],
      }),
    );
    world.jobs.push(queuedJob('demo-0'));
    world.pods.push(pod('demo-0', 'demo-0-a', 'Failed', ago(100)));
    world.workloads.push(pendingWorkload('demo-0'));
    await reconciler.reconcile('ns', 'demo');
    const t = trial('demo-0');
    assert.equal(t?.status?.state, 'Queued', `${t?.status?.reason}: ${t?.status?.message}`);
    assert.equal(t?.status?.attempts, 2);
    assert.deepEqual(t?.status?.intermediate, []);
    assert.deepEqual(t?.spec.parameters, PARAMS);
    assert.equal(world.trials.length, 1, 'no new trial index for the preempted one');
    assert.ok(
      world.jobs.some((j) => j.metadata?.name === 'demo-0'),
      'the Job is kept for Kueue to readmit',
    );

    // Seen again while still queued: not another attempt.
    await reconciler.reconcile('ns', 'demo');
    assert.equal(trial('demo-0')?.status?.attempts, 2);
  });

  it('builds a queued study’s Job suspended, with the queue and priority-class labels', () => {
    const ps = {
      ...queuedStudy(),
      spec: spec({ queueName: 'team-a', priorityClassName: 'low' }),
    } as ParsedStudy;
    const job = buildTrialWorkload(ps, trialObject(0)) as V1Job;
    assert.equal(job.spec?.suspend, true);
    assert.equal(job.metadata?.labels?.[QUEUE], 'team-a');
    assert.equal(job.metadata?.labels?.['kueue.x-k8s.io/priority-class'], 'low');

    const plain = buildTrialWorkload({ ...ps, spec: spec() } as ParsedStudy, trialObject(0)) as V1Job;
    assert.equal(plain.spec?.suspend, undefined);
    assert.equal(plain.metadata?.labels?.[QUEUE], undefined);
  });
});
