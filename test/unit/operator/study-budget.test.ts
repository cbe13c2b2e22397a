// The reconciler's side of spec.budget: usage read from the Trials' times and the template's GPU
// request, no new trial once the budget is spent, and the reason on the Study. Served by the
// in-memory API of support/fake-study-api.ts with a fixed clock; the real apiserver runs the
// same study in test/integration/operator-budget.test.ts.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { createEventRecorder } from '../../../src/operator/events.js';
import { makeClients } from '../../../src/operator/kube/clients.js';
import type { StudyObject, TrialObject } from '../../../src/operator/kube/resources.js';
import { StudyReconciler } from '../../../src/operator/study/study-reconciler.js';
import { trialGpuHours } from '../../../src/operator/study/study-status.js';
import { TrialMetricsTracker } from '../../../src/operator/trials/metrics-tracker.js';
import { specInput } from '../../support/specs.js';
import { startFakeApi, type FakeApi } from './support/fake-api.js';
import { emptyWorld, jobWithPod, serveStudy, type StudyWorld } from './support/fake-study-api.js';
import { memoryLogger } from './support/logger.js';

const PARAMS = { learning_rate: '0.01', batch_size: '64', dropout: '0.1', optimizer: 'adam' };
const NOW = new Date('2026-01-01T01:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();

function gpuStudy(gpus: number, budget: Record<string, unknown>, startedAgo = 600): StudyObject {
  const input = specInput({ maxTrials: 50, parallelism: 1, budget } as never);
  const container = input.trialTemplate.spec.template!.spec.containers[0] as Record<string, unknown>;
  container['resources'] = { limits: { 'nvidia.com/gpu': String(gpus) } };
  return {
    apiVersion: 'kubetune.io/v1alpha1',
    kind: 'Study',
    metadata: { name: 'demo', namespace: 'ns', uid: 'study-uid', generation: 1, resourceVersion: '1' },
    spec: input,
    status: { phase: 'Running', startTime: ago(startedAgo) },
  };
}

function trialObject(index: number, status: TrialObject['status']): TrialObject {
  return {
    apiVersion: 'kubetune.io/v1alpha1',
    kind: 'Trial',
    metadata: {
      name: `demo-${index}`,
      namespace: 'ns',
      uid: `uid-demo-${index}`,
      resourceVersion: '1',
      labels: { 'kubetune.io/study': 'demo' },
    },
    spec: { study: 'demo', index, parameters: PARAMS },
    status,
  };
}

/** A trial that ran `seconds` and ended `endedAgo` seconds before NOW. */
const finished = (index: number, seconds: number, endedAgo: number) =>
  trialObject(index, {
    state: 'Succeeded',
    objective: 1 / (index + 1),
    startTime: ago(endedAgo + seconds),
    completionTime: ago(endedAgo),
  });

const condition = (world: StudyWorld, type: string) =>
  world.study.status?.conditions?.find((c) => c.type === type);

describe('trialGpuHours', () => {
  it('is GPUs × running time, up to now while the trial runs, and 0 before it starts', () => {
    assert.equal(
      trialGpuHours({ state: 'Succeeded', startTime: ago(3600), completionTime: ago(1800) }, 2, NOW),
      1,
    );
    assert.equal(trialGpuHours({ state: 'Running', startTime: ago(900) }, 4, NOW), 1);
    assert.equal(trialGpuHours({ state: 'Pending' }, 4, NOW), 0);
    assert.equal(trialGpuHours({ state: 'Running', startTime: ago(900) }, 0, NOW), 0);
  });
});

describe('study reconciler budgets', () => {
  let api: FakeApi;
  let world: StudyWorld;
  let tracker: TrialMetricsTracker;
  let gpuSeconds: number | undefined;
  const reconciler = () => {
    const { logger } = memoryLogger();
    const clients = makeClients(api.kc);
    return new StudyReconciler({
      clients,
      tracker,
      events: createEventRecorder(clients.core, logger),
      logger,
      now: () => NOW,
      hooks: { gpuSeconds: (_ns, _study, s) => (gpuSeconds = s) },
    });
  };

  before(async () => (api = await startFakeApi()));
  after(() => api.close());
  beforeEach(() => {
    gpuSeconds = undefined;
    const { logger } = memoryLogger();
    tracker = new TrialMetricsTracker({
      kc: api.kc,
      logger,
      recordProgress: async () => {},
      onProgress: () => {},
    });
  });
  afterEach(() => tracker.stopAll());

  it('starts another trial while one more trial of GPU-hours fits the budget', async () => {
    // 2 GPUs × 2 × 360 s = 0.4 GPU-hours used; one more (0.2) fits in 1.
    world = emptyWorld(gpuStudy(2, { gpuHours: 1 }));
    world.trials.push(finished(0, 360, 1000), finished(1, 360, 500));
    serveStudy(api, world);
    await reconciler().reconcile('ns', 'demo');
    assert.equal(world.trials.length, 3, 'trial demo-2 was created');
    assert.equal(world.study.status?.usage?.gpuHours, 0.4);
    assert.equal(gpuSeconds, 1440);
    assert.equal(world.study.status?.phase, 'Running');
  });

  it('starts no trial once the next would pass gpuHours, and ends BudgetExhausted saying how much was used', async () => {
    // 1 GPU × 3 × 1200 s = 1 GPU-hour used; another 0.333 does not fit in 1.2.
    world = emptyWorld(gpuStudy(1, { gpuHours: 1.2 }));
    world.trials.push(finished(0, 1200, 3000), finished(1, 1200, 1500), finished(2, 1200, 100));
    serveStudy(api, world);
    await reconciler().reconcile('ns', 'demo');
    assert.equal(world.trials.length, 3, 'no trial was created');
    assert.equal(world.study.status?.phase, 'Succeeded');
    assert.equal(world.study.status?.usage?.gpuHours, 1);
    const succeeded = condition(world, 'Succeeded');
    assert.equal(succeeded?.reason, 'BudgetExhausted');
    assert.match(succeeded?.message ?? '', /budget\.gpuHours spent: 1 of 1\.2 GPU-hours used/);
  });

  it('counts a running trial up to now and lets it finish', async () => {
    world = emptyWorld(gpuStudy(1, { gpuHours: 0.5 }));
    world.trials.push(
      finished(0, 1200, 2000),
      trialObject(1, { state: 'Running', startTime: ago(1800), podName: 'demo-1-pod', jobName: 'demo-1' }),
    );
    jobWithPod(world, 'demo-1', 'Running');
    world.logs['demo-1-pod'] = '';
    serveStudy(api, world);
    await reconciler().reconcile('ns', 'demo');
    assert.equal(world.trials.length, 2, 'no trial was created');
    assert.equal(world.trials[1]?.status?.state, 'Running');
    assert.equal(world.study.status?.phase, 'Running');
    assert.equal(world.study.status?.usage?.gpuHours, 0.8333);
  });

  it('prunes running trials as BudgetExhausted once the wall clock is spent', async () => {
    world = emptyWorld(gpuStudy(1, { wallClock: '30m' }, 1801));
    world.trials.push(
      finished(0, 60, 1000),
      trialObject(1, { state: 'Running', startTime: ago(300), podName: 'demo-1-pod', jobName: 'demo-1' }),
    );
    jobWithPod(world, 'demo-1', 'Running');
    world.logs['demo-1-pod'] = '';
    serveStudy(api, world);
    await reconciler().reconcile('ns', 'demo');
    assert.equal(world.trials.length, 2, 'no trial was created');
    assert.equal(world.trials[1]?.status?.state, 'Pruned');
    assert.equal(world.trials[1]?.status?.reason, 'BudgetExhausted');
    assert.equal(condition(world, 'Succeeded')?.reason, 'BudgetExhausted');
    assert.match(
      condition(world, 'Succeeded')?.message ?? '',
      /budget\.wallClock 30m spent: the study ran 1801s of 1800s/,
    );
  });
});
