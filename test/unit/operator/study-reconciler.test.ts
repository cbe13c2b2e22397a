// StudyReconciler's error paths, against a local HTTP server serving one study's objects (see
// support/fake-study-api.ts). What it does against a working apiserver is tested against the
// real one in test/integration/operator*.test.ts.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { makeClients } from '../../../src/operator/kube/clients.js';
import { createEventRecorder } from '../../../src/operator/events.js';
import { StudyReconciler, type ReconcilerDeps } from '../../../src/operator/study/study-reconciler.js';
import { TrialMetricsTracker } from '../../../src/operator/trials/metrics-tracker.js';
import { httpStatus } from '../../../src/operator/study/reconcile-errors.js';
import { FairShareLedger, SlotLedger } from '../../../src/operator/study/slot-ledger.js';
import { sendJson, sendStatus, startFakeApi, type FakeApi } from './support/fake-api.js';
import {
  emptyWorld,
  jobWithPod,
  serveStudy,
  studyObject,
  trialObject,
  type StudyWorld,
} from './support/fake-study-api.js';
import { memoryLogger } from './support/logger.js';

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
};
const trialNamed = (world: StudyWorld, name: string) => world.trials.find((t) => t.metadata.name === name);
const condition = (world: StudyWorld, type: string) =>
  world.study.status?.conditions?.find((c) => c.type === type);
const LOG = '2026-01-01T00:00:01Z epoch=1 loss=0.5\n2026-01-01T00:00:02Z epoch=2 loss=0.25\n';
const LOGS = /^\/api\/v1\/namespaces\/ns\/pods\/[^/]+\/log$/;
const COMPLETE = [{ type: 'Complete', status: 'True' }];

describe('study reconciler error paths', () => {
  let api: FakeApi;
  let world: StudyWorld;
  let tracker: TrialMetricsTracker;
  let reconciler: StudyReconciler;
  let slots: SlotLedger;

  before(async () => (api = await startFakeApi()));
  after(() => api.close());
  beforeEach(() => {
    world = emptyWorld(studyObject());
    serveStudy(api, world);
    const { logger } = memoryLogger();
    const clients = makeClients(api.kc);
    tracker = new TrialMetricsTracker({
      kc: api.kc,
      logger,
      recordProgress: async () => {},
      onProgress: () => {},
    });
    slots = new SlotLedger(10);
    reconciler = new StudyReconciler({
      clients,
      tracker,
      events: createEventRecorder(clients.core, logger),
      logger,
      slots,
    });
  });
  afterEach(() => tracker.stopAll());

  /** A reconciler over the fake API with the suite's tracker and `deps` added (a ledger, hooks, ...). */
  const reconcilerWith = (deps: Partial<ReconcilerDeps>) => {
    const { logger } = memoryLogger();
    const clients = makeClients(api.kc);
    return new StudyReconciler({
      clients,
      tracker,
      events: createEventRecorder(clients.core, logger),
      logger,
      ...deps,
    });
  };

  it('drops its per-study hooks (metric series) once the Study is being deleted', async () => {
    const gone: string[] = [];
    const withHooks = reconcilerWith({
      hooks: { studyGone: (namespace, study) => gone.push(`${namespace}/${study}`) },
    });
    await withHooks.reconcile('ns', 'demo');
    assert.deepEqual(gone, []);
    world.study.metadata.deletionTimestamp = new Date();
    await withHooks.reconcile('ns', 'demo');
    assert.deepEqual(gone, ['ns/demo']);
  });

  it('stops following a running trial once the Trial is gone', async () => {
    world.trials.push(trialObject(0, { state: 'Running', podName: 'demo-0-pod', jobName: 'demo-0' }));
    jobWithPod(world, 'demo-0', 'Running');
    world.logs['demo-0-pod'] = '';
    await reconciler.reconcile('ns', 'demo');
    assert.deepEqual(tracker.trackedKeys('ns/demo'), ['ns/demo-0']);
    world.trials = [];
    world.jobs = [];
    await reconciler.reconcile('ns', 'demo');
    assert.deepEqual(tracker.trackedKeys('ns/demo'), []);
  });

  it('retries a final log read that fails with 503, and the trial still succeeds with its values', async () => {
    world.trials.push(trialObject(0, { state: 'Running', podName: 'demo-0-pod', jobName: 'demo-0' }));
    jobWithPod(world, 'demo-0', 'Succeeded', COMPLETE);
    let reads = 0;
    api.route('GET', LOGS, (_req, res) => {
      if (++reads <= 2) return sendStatus(res, 503, 'ServiceUnavailable', 'etcd leader changed');
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(LOG);
    });
    await reconciler.reconcile('ns', 'demo');
    const trial = trialNamed(world, 'demo-0');
    assert.equal(trial?.status?.state, 'Succeeded', `${trial?.status?.reason}: ${trial?.status?.message}`);
    assert.equal(trial?.status?.objective, 0.25);
    assert.equal(reads, 3);
  });

  it('leaves a finished trial undecided while its log answers 503, and gives up only once it is gone (404)', async () => {
    world.trials.push(trialObject(0, { state: 'Running', podName: 'demo-0-pod', jobName: 'demo-0' }));
    jobWithPod(world, 'demo-0', 'Succeeded', COMPLETE);
    api.route('GET', LOGS, (_req, res) =>
      sendStatus(res, 503, 'ServiceUnavailable', 'apiserver is shutting down'),
    );
    await assert.rejects(reconciler.reconcile('ns', 'demo'), (err) => httpStatus(err) === 503);
    assert.equal(trialNamed(world, 'demo-0')?.status?.state, 'Running');
    api.route('GET', LOGS, (_req, res) => sendStatus(res, 404, 'NotFound', 'pods "demo-0-pod" not found'));
    await reconciler.reconcile('ns', 'demo');
    assert.equal(trialNamed(world, 'demo-0')?.status?.state, 'MetricsUnavailable');
  });

  it('records with the ending the values seen since the last batched write', async () => {
    world.trials.push(
      trialObject(0, {
        state: 'Running',
        podName: 'demo-0-pod',
        jobName: 'demo-0',
        intermediate: [{ step: 1, value: 0.5 }],
      }),
    );
    jobWithPod(world, 'demo-0', 'Running');
    world.logs['demo-0-pod'] = `${LOG}2026-01-01T00:00:03Z epoch=3 loss=0.125\n`;
    await reconciler.reconcile('ns', 'demo');
    await until(() => tracker.collector(trialNamed(world, 'demo-0')!)?.intermediate().length === 3);
    world.jobs[0]!.status = { conditions: [{ type: 'Failed', status: 'True' }] };
    world.pods[0]!.status = { phase: 'Failed' };
    await reconciler.reconcile('ns', 'demo');
    const trial = trialNamed(world, 'demo-0');
    assert.equal(trial?.status?.state, 'Failed');
    assert.deepEqual(
      trial?.status?.intermediate?.map((p) => p.step),
      [1, 2, 3],
    );
  });

  it('never writes a decision over a trial that changed since it was read (409), and decides again', async () => {
    world.study = studyObject({ objective: { metric: 'loss', goal: 'minimize', target: 0.5 } });
    world.trials.push(trialObject(0, { state: 'Running', podName: 'demo-0-pod', jobName: 'demo-0' }));
    world.trials.push(trialObject(1, { state: 'Succeeded', objective: 0.1, metrics: { loss: 0.1 } }));
    jobWithPod(world, 'demo-0', 'Running');
    world.logs['demo-0-pod'] = '';
    // The list this reconcile reads is stale: meanwhile another writer recorded demo-0 as Succeeded.
    const stale = structuredClone(world.trials);
    const current = trialNamed(world, 'demo-0')!;
    current.status = { state: 'Succeeded', objective: 0.3, metrics: { loss: 0.3 } };
    current.metadata.resourceVersion = '7';
    api.route('GET', /\/trials$/, (_req, res) => sendJson(res, 200, { items: stale }));
    await assert.rejects(reconciler.reconcile('ns', 'demo'), (err: { code?: number }) => err.code === 409);
    assert.equal(trialNamed(world, 'demo-0')?.status?.state, 'Succeeded');
    api.route('GET', /\/trials$/, (_req, res) => sendJson(res, 200, { items: world.trials }));
    await reconciler.reconcile('ns', 'demo');
    assert.equal(trialNamed(world, 'demo-0')?.status?.state, 'Succeeded');
    assert.equal(world.study.status?.phase, 'Succeeded');
  });

  it('waits as long as a 429 asks (Retry-After) instead of failing the reconcile', async () => {
    api.route('GET', /\/trials$/, (_req, res) =>
      sendStatus(res, 429, 'TooManyRequests', 'the server has received too many requests', {
        'retry-after': '3',
      }),
    );
    assert.deepEqual(await reconciler.reconcile('ns', 'demo'), { requeueAfterMs: 3000 });
  });

  for (const [code, reason, message] of [
    [
      422,
      'Invalid',
      'Job.batch "demo-0" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always"',
    ],
    [
      403,
      'Forbidden',
      'jobs.batch "demo-0" is forbidden: exceeded quota: jobs, requested: count/jobs.batch=1',
    ],
  ] as const) {
    it(`ends a trial whose Job the apiserver rejects (${code}) as Failed/JobRejected, visible on the Study`, async () => {
      world.study = studyObject({ maxFailedTrials: 0 });
      api.route('POST', /\/jobs$/, (_req, res) => sendStatus(res, code, reason, message));
      await reconciler.reconcile('ns', 'demo');
      const trial = trialNamed(world, 'demo-0');
      assert.equal(trial?.status?.state, 'Failed');
      assert.equal(trial?.status?.reason, 'JobRejected');
      assert.ok(trial?.status?.message?.includes(message), trial?.status?.message);
      const degraded = condition(world, 'Degraded');
      assert.equal(degraded?.status, 'True');
      assert.equal(degraded?.reason, 'JobRejected');
      assert.match(condition(world, 'Failed')?.message ?? '', /last failure: demo-0: JobRejected: /);
      await until(() => world.events.some((e) => e.reason === 'JobRejected'));
      assert.equal(slots.inUse, 0, 'the rejected trial still holds a slot');
    });
  }

  it('records a Trial the apiserver rejects (a derived name over 63 characters) on the Study and frees its slot', async () => {
    api.route('POST', /\/trials$/, (_req, res) =>
      sendStatus(
        res,
        422,
        'Invalid',
        'Trial.kubetune.io "x" is invalid: metadata.labels: Invalid value: must be no more than 63 characters',
      ),
    );
    assert.deepEqual(await reconciler.reconcile('ns', 'demo'), {});
    const degraded = condition(world, 'Degraded');
    assert.equal(degraded?.reason, 'TrialRejected');
    assert.match(degraded?.message ?? '', /could not create Trial demo-0: .*no more than 63 characters/);
    assert.equal(slots.inUse, 0);
    await until(() => world.events.some((e) => e.reason === 'TrialRejected'));
  });

  it('plans nothing from a history that spec.parameters no longer fits, says why, and still finishes running trials', async () => {
    world.trials.push(trialObject(0, { state: 'Running', podName: 'demo-0-pod', jobName: 'demo-0' }));
    world.trials[0]!.spec.parameters = { lr: '0.5' };
    jobWithPod(world, 'demo-0', 'Succeeded', COMPLETE);
    world.logs['demo-0-pod'] = LOG;
    await reconciler.reconcile('ns', 'demo');
    assert.equal(world.trials.length, 1, 'a trial was planned from an incompatible history');
    assert.equal(trialNamed(world, 'demo-0')?.status?.state, 'Succeeded');
    const degraded = condition(world, 'Degraded');
    assert.equal(degraded?.reason, 'HistoryIncompatible');
    assert.match(
      degraded?.message ?? '',
      /trial demo-0 .* does not fit spec\.parameters: parameter learning_rate is missing/,
    );
    await until(() => world.events.some((e) => e.reason === 'HistoryIncompatible'));
  });

  it('makes a Study whose prior Study is gone (404) InvalidSpec, naming it, and starts no trial', async () => {
    world.study = studyObject({ priorStudies: ['gone'] });
    api.route('GET', /\/studies\/gone$/, (_req, res) =>
      sendStatus(res, 404, 'NotFound', 'studies.kubetune.io "gone" not found'),
    );
    await reconciler.reconcile('ns', 'demo');
    assert.equal(world.study.status?.phase, 'Failed');
    const failed = condition(world, 'Failed');
    assert.equal(failed?.reason, 'InvalidSpec');
    assert.equal(failed?.message, 'spec.priorStudies[0]: Study gone does not exist in namespace ns');
    assert.deepEqual(world.trials, []);
    assert.equal(world.study.status?.priors, undefined);
    await until(() => world.events.some((e) => e.reason === 'InvalidSpec'));
  });

  it('touches no trial of a Study whose trial kind is unavailable, says why, and runs it once the kind is', async () => {
    let why: string | undefined = 'spec.trialTemplate: batch/v1 Job is unavailable: CRD not installed';
    const gated = reconcilerWith({ kindUnavailable: () => why });
    world.trials.push(trialObject(0, { state: 'Running', podName: 'demo-0-pod', jobName: 'demo-0' }));
    jobWithPod(world, 'demo-0', 'Succeeded', COMPLETE);
    world.logs['demo-0-pod'] = LOG;
    assert.deepEqual(await gated.reconcile('ns', 'demo'), {});
    assert.equal(world.trials.length, 1, 'a trial was started');
    assert.equal(trialNamed(world, 'demo-0')?.status?.state, 'Running', 'a trial was advanced');
    const degraded = condition(world, 'Degraded');
    assert.equal(degraded?.status, 'True');
    assert.equal(degraded?.reason, 'TrialKindUnavailable');
    assert.equal(degraded?.message, why);
    await until(() => world.events.some((e) => e.reason === 'TrialKindUnavailable'));

    why = undefined;
    await gated.reconcile('ns', 'demo');
    assert.equal(trialNamed(world, 'demo-0')?.status?.state, 'Succeeded');
    assert.ok(world.trials.length > 1, 'no new trial once the kind is available');
    assert.equal(condition(world, 'Degraded')?.status, 'False');
  });

  it('holds for each trial the GPUs of its own rendered template under --max-gpus', async () => {
    world.study = studyObject({
      parameters: [{ name: 'w', type: 'int', min: 1, max: 3 }],
      maxTrials: 4,
      parallelism: 4,
      seed: 7,
      trialTemplate: {
        spec: {
          parallelism: '${params.w}',
          template: {
            spec: {
              containers: [{ name: 'trainer', image: 'x', resources: { limits: { 'nvidia.com/gpu': 1 } } }],
            },
          },
        },
      },
    });
    const ledger = new FairShareLedger({ gpus: 12 });
    const fair = reconcilerWith({ slots: ledger });
    await fair.reconcile('ns', 'demo');
    assert.equal(world.trials.length, 4, '12 GPUs grant 4 trials of at most 3');
    const asked = world.trials.reduce((sum, t) => sum + Number(t.spec.parameters['w']), 0);
    assert.ok(asked > world.trials.length, `the seed draws a trial of more than one GPU (${asked})`);
    assert.equal(ledger.gpusInUse, asked);
  });

  it('records any other error that retrying cannot fix (403) as Degraded with an Event', async () => {
    api.route('GET', /\/pods$/, (_req, res) =>
      sendStatus(res, 403, 'Forbidden', 'pods is forbidden: User "kubetune" cannot list resource "pods"'),
    );
    assert.deepEqual(await reconciler.reconcile('ns', 'demo'), {});
    const degraded = condition(world, 'Degraded');
    assert.equal(degraded?.reason, 'ReconcileError');
    assert.match(degraded?.message ?? '', /HTTP 403: pods is forbidden/);
    await until(() => world.events.some((e) => e.reason === 'ReconcileError'));
    const events = world.events.length;
    await reconciler.reconcile('ns', 'demo');
    assert.equal(world.events.length, events, 'the same problem was announced twice');
  });

  it('judges a pruning decision again when writing it failed (409)', async () => {
    world.study = studyObject({
      maxTrials: 5,
      earlyStopping: { name: 'asha', settings: { minResource: 1, maxResource: 9, reductionFactor: 3 } },
    });
    world.trials.push(trialObject(0, { state: 'Running', podName: 'demo-0-pod', jobName: 'demo-0' }));
    for (const [i, value] of [0.1, 0.2, 0.3].entries())
      world.trials.push(
        trialObject(i + 1, { state: 'Succeeded', objective: value, intermediate: [{ step: 1, value }] }),
      );
    jobWithPod(world, 'demo-0', 'Running');
    world.logs['demo-0-pod'] = '';
    await reconciler.reconcile('ns', 'demo');
    // Three steps arrive in one flush; the first of them (rung 0) prunes the trial.
    trialNamed(world, 'demo-0')!.status!.intermediate = [
      { step: 1, value: 0.9 },
      { step: 2, value: 0.8 },
      { step: 3, value: 0.7 },
    ];
    let refused = false;
    api.route('PATCH', /\/trials\/demo-0\/status$/, (_req, res) => {
      refused = true;
      sendStatus(res, 409, 'Conflict', 'the object has been modified');
    });
    await assert.rejects(reconciler.reconcile('ns', 'demo'), (err: { code?: number }) => err.code === 409);
    assert.ok(refused);
    serveStudy(api, world);
    await reconciler.reconcile('ns', 'demo');
    const trial = trialNamed(world, 'demo-0');
    assert.equal(trial?.status?.state, 'Pruned', JSON.stringify(trial?.status));
    assert.equal(trial?.status?.prunedAtStep, 1);
    assert.match(trial?.status?.message ?? '', /at rung 0 \(step 1\)/);
  });

  it("ends a one-pod Job's trial when its pod succeeds, and leaves that Job alone while the Job controller catches up", async () => {
    world.trials.push(trialObject(0, { state: 'Running', podName: 'demo-0-pod', jobName: 'demo-0' }));
    jobWithPod(world, 'demo-0', 'Succeeded');
    world.logs['demo-0-pod'] = LOG;
    await reconciler.reconcile('ns', 'demo');
    assert.equal(trialNamed(world, 'demo-0')?.status?.state, 'Succeeded');
    // The Job has no Complete condition yet: it is not a workload left running to delete.
    await reconciler.reconcile('ns', 'demo');
    assert.ok(
      world.jobs.some((j) => j.metadata?.name === 'demo-0'),
      `the succeeded trial's Job was deleted; Jobs left: ${world.jobs.map((j) => j.metadata?.name).join(', ')}`,
    );
  });

  describe('trialTimeoutSeconds', () => {
    const now = new Date('2026-01-01T00:01:00Z');
    const ago = (s: number) => new Date(now.getTime() - s * 1000);
    const timedReconciler = () =>
      new StudyReconciler({
        clients: makeClients(api.kc),
        tracker,
        events: { emit() {} },
        logger: memoryLogger().logger,
        now: () => now,
      });

    it('does not time out a trial whose pod finished in time while the Job has not yet said so', async () => {
      world.study = studyObject({ trialTimeoutSeconds: 4 });
      world.trials.push(trialObject(0, { state: 'Running', podName: 'demo-0-pod', jobName: 'demo-0' }));
      const pod = jobWithPod(world, 'demo-0', 'Succeeded');
      // A Job that needs more than this pod waits for the Job controller's verdict.
      world.jobs[0]!.spec = { completions: 2, template: {} };
      pod.status = {
        phase: 'Succeeded',
        startTime: ago(10),
        containerStatuses: [
          {
            name: 'trainer',
            ready: false,
            restartCount: 0,
            image: 'x',
            imageID: 'x',
            state: { terminated: { exitCode: 0, startedAt: ago(9), finishedAt: ago(8) } },
          },
        ],
      };
      world.logs['demo-0-pod'] = LOG;
      await timedReconciler().reconcile('ns', 'demo');
      const trial = trialNamed(world, 'demo-0');
      assert.equal(trial?.status?.state, 'Running', `${trial?.status?.reason}: ${trial?.status?.message}`);
    });

    it("counts running time from the trial container's start, not from the pod's", async () => {
      world.study = studyObject({ trialTimeoutSeconds: 4 });
      world.trials.push(trialObject(0, { state: 'Running', podName: 'demo-0-pod', jobName: 'demo-0' }));
      const pod = jobWithPod(world, 'demo-0', 'Running');
      pod.status = {
        phase: 'Running',
        startTime: ago(10),
        containerStatuses: [
          {
            name: 'trainer',
            ready: true,
            restartCount: 0,
            image: 'x',
            imageID: 'x',
            state: { running: { startedAt: ago(3) } },
          },
        ],
      };
      world.logs['demo-0-pod'] = '';
      const result = await timedReconciler().reconcile('ns', 'demo');
      assert.equal(trialNamed(world, 'demo-0')?.status?.state, 'Running');
      assert.deepEqual(result, { requeueAfterMs: 1000 });
    });
  });
});
