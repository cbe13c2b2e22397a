// StudyReconciler's error paths, against a local HTTP server serving one study's objects (see
// support/fake-study-api.ts). What it does against a working apiserver is tested against the
// real one in test/integration/operator*.test.ts.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { makeClients } from '../../../src/operator/kube/clients.js';
import type { StudyObject, TrialObject } from '../../../src/operator/kube/resources.js';
import { createEventRecorder } from '../../../src/operator/events.js';
import { StudyReconciler } from '../../../src/operator/study/study-reconciler.js';
import { TrialMetricsTracker } from '../../../src/operator/trials/metrics-tracker.js';
import { specInput } from '../../support/specs.js';
import { startFakeApi, type FakeApi } from './support/fake-api.js';
import { emptyWorld, jobWithPod, serveStudy, type StudyWorld } from './support/fake-study-api.js';
import { memoryLogger } from './support/logger.js';

const PARAMS = { learning_rate: '0.01', batch_size: '64', dropout: '0.1', optimizer: 'adam' };

function studyObject(overrides: Record<string, unknown> = {}): StudyObject {
  return {
    apiVersion: 'kubetune.io/v1alpha1',
    kind: 'Study',
    metadata: { name: 'demo', namespace: 'ns', uid: 'study-uid', generation: 1, resourceVersion: '1' },
    spec: specInput({ maxTrials: 2, parallelism: 1, ...overrides }),
  };
}

function trialObject(index: number, status?: TrialObject['status']): TrialObject {
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
    ...(status ? { status } : {}),
  };
}

describe('study reconciler error paths', () => {
  let api: FakeApi;
  let world: StudyWorld;
  let tracker: TrialMetricsTracker;
  let reconciler: StudyReconciler;

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
      patchTrialStatus: async () => {},
      onProgress: () => {},
    });
    reconciler = new StudyReconciler({
      clients,
      tracker,
      events: createEventRecorder(clients.core, logger),
      logger,
    });
  });
  afterEach(() => tracker.stopAll());

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
});
