// StudyReconciler reading from informer caches (StudyCache) that lag the operator's own writes,
// at the seam: the caches are test-controlled views, the writes go to a local HTTP server serving
// one study's objects (support/fake-study-api.ts). Against the real apiserver the same path runs
// in test/integration/operator*.test.ts.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { KubernetesObject, V1Job, V1Pod } from '@kubernetes/client-node';
import { makeClients } from '../../../src/operator/kube/clients.js';
import { createEventRecorder } from '../../../src/operator/events.js';
import type { StudyObject, TrialObject } from '../../../src/operator/kube/resources.js';
import {
  EXPECTATION_TIMEOUT_MS,
  StudyCache,
  studyIndexOf,
  type CacheSource,
} from '../../../src/operator/study/study-cache.js';
import { StudyReconciler } from '../../../src/operator/study/study-reconciler.js';
import { TrialMetricsTracker } from '../../../src/operator/trials/metrics-tracker.js';
import { startFakeApi, type FakeApi, type FakeRequest } from './support/fake-api.js';
import {
  emptyWorld,
  jobWithPod,
  serveStudy,
  studyObject,
  trialObject,
  type StudyWorld,
} from './support/fake-study-api.js';
import { memoryLogger } from './support/logger.js';

/** An informer cache frozen at what the test last showed it, however far the apiserver moved on. */
class FrozenCache<T extends KubernetesObject> implements CacheSource<T> {
  shown: T[] = [];
  indexed(value: string): T[] {
    return this.shown.filter((o) => studyIndexOf(o) === value);
  }
  get(name: string, namespace?: string): T | undefined {
    return this.shown.find((o) => o.metadata?.name === name && o.metadata?.namespace === namespace);
  }
  show(objects: T[]): void {
    this.shown = structuredClone(objects);
  }
}

const posts = (reqs: FakeRequest[], kind: string) =>
  reqs.filter((r) => r.method === 'POST' && r.path.endsWith(`/${kind}`));
const deletes = (reqs: FakeRequest[]) => reqs.filter((r) => r.method === 'DELETE');
const names = (objects: KubernetesObject[]) => objects.map((o) => o.metadata?.name).sort();

describe('study reconcile from lagging caches', () => {
  let api: FakeApi;
  let world: StudyWorld;
  let tracker: TrialMetricsTracker;
  let caches: {
    studies: FrozenCache<StudyObject>;
    trials: FrozenCache<TrialObject>;
    jobs: FrozenCache<V1Job>;
    pods: FrozenCache<V1Pod>;
  };
  let now: number;
  let reconciler: StudyReconciler;

  before(async () => (api = await startFakeApi()));
  after(() => api.close());
  afterEach(() => tracker.stopAll());
  const start = (spec: Record<string, unknown>) => {
    world = emptyWorld(studyObject(spec));
    serveStudy(api, world);
    caches = {
      studies: new FrozenCache(),
      trials: new FrozenCache(),
      jobs: new FrozenCache(),
      pods: new FrozenCache(),
    };
    caches.studies.show([world.study]);
    now = Date.parse('2026-01-01T00:00:00Z');
    const { logger } = memoryLogger();
    const clients = makeClients(api.kc);
    tracker = new TrialMetricsTracker({
      kc: api.kc,
      logger,
      recordProgress: async () => {},
      onProgress() {},
    });
    reconciler = new StudyReconciler({
      clients,
      cache: new StudyCache(
        {
          studies: [caches.studies],
          trials: [caches.trials],
          jobs: [caches.jobs],
          workloads: [],
          pods: [caches.pods],
        },
        () => now,
      ),
      tracker,
      events: createEventRecorder(clients.core, logger),
      logger,
    });
    api.requests.length = 0;
  };
  beforeEach(() => start({ maxTrials: 3, parallelism: 3 }));

  it('adopts a Trial the cache missed as it is: a finished one is not run again', async () => {
    // The apiserver has demo-0 finished; the cache (an informer that missed it) shows nothing.
    world.trials.push(
      trialObject(0, {
        state: 'Succeeded',
        objective: 0.5,
        jobName: 'demo-0',
        completionTime: '2026-01-01T00:00:00Z',
      }),
    );
    await reconciler.reconcile('ns', 'demo');
    assert.ok(
      !posts(api.requests, 'jobs').some((r) => JSON.stringify(r.body ?? '').includes('"demo-0"')),
      'no Job for the finished demo-0',
    );
    assert.deepEqual(names(world.jobs), [], 'nothing started from a plan made on a stale history');
  });

  it('never plans past maxTrials while the cache lacks the trials it just created', async () => {
    await reconciler.reconcile('ns', 'demo');
    assert.deepEqual(names(world.trials), ['demo-0', 'demo-1', 'demo-2']);
    assert.deepEqual(names(world.jobs), ['demo-0', 'demo-1', 'demo-2']);
    // The cache has seen the newest Trial only: the others must still count.
    caches.trials.show(world.trials.filter((t) => t.metadata.name === 'demo-2'));
    api.requests.length = 0;
    await reconciler.reconcile('ns', 'demo');
    await reconciler.reconcile('ns', 'demo');
    assert.deepEqual(posts(api.requests, 'trials'), [], 'no Trial is created again or past maxTrials');
    assert.deepEqual(
      posts(api.requests, 'jobs'),
      [],
      'a Job the cache has not shown yet is not created again',
    );
    assert.deepEqual(names(world.trials), ['demo-0', 'demo-1', 'demo-2']);
    assert.ok(
      world.trials.every((t) => t.status?.state !== 'Failed'),
      `no trial ends for lack of a Job the cache has not shown: ${JSON.stringify(world.trials.map((t) => t.status))}`,
    );
  });

  it('never starts more than parallelism while the cache lacks the trials it just created', async () => {
    start({ maxTrials: 6, parallelism: 2 });
    await reconciler.reconcile('ns', 'demo');
    assert.deepEqual(names(world.trials), ['demo-0', 'demo-1']);
    api.requests.length = 0;
    await reconciler.reconcile('ns', 'demo');
    assert.deepEqual(posts(api.requests, 'trials'), []);
    assert.deepEqual(names(world.trials), ['demo-0', 'demo-1']);
  });

  it('counts a created trial only until the expectation times out, as after a missed watch event', async () => {
    start({ maxTrials: 6, parallelism: 1 });
    await reconciler.reconcile('ns', 'demo');
    assert.deepEqual(names(world.trials), ['demo-0']);
    // The cache never delivers demo-0 and the apiserver loses it: after the timeout the
    // expectation no longer holds the slot, and the study plans again.
    world.trials.length = 0;
    world.jobs.length = 0;
    now += EXPECTATION_TIMEOUT_MS - 1;
    await reconciler.reconcile('ns', 'demo');
    assert.deepEqual(names(world.trials), []);
    now += 2;
    await reconciler.reconcile('ns', 'demo');
    assert.deepEqual(names(world.trials), ['demo-0'], 'planned again from what the cache shows');
  });

  it('does not delete a Job twice, nor decide again on a trial it already ended, while the cache lags', async () => {
    start({ maxTrials: 2, parallelism: 1 });
    world.trials.push(trialObject(0, { state: 'Running', podName: 'demo-0-pod', jobName: 'demo-0' }));
    jobWithPod(world, 'demo-0', 'Failed', [{ type: 'Failed', status: 'True' }]);
    const stale = { trials: structuredClone(world.trials), jobs: structuredClone(world.jobs) };
    caches.trials.show(stale.trials);
    caches.jobs.show(stale.jobs);
    caches.pods.show(world.pods);
    await reconciler.reconcile('ns', 'demo');
    assert.equal(world.trials.find((t) => t.metadata.name === 'demo-0')?.status?.state, 'Failed');
    assert.equal(deletes(api.requests).length, 1);
    assert.deepEqual(names(world.trials), ['demo-0', 'demo-1'], 'the freed slot is refilled');
    // The cache still shows demo-0 Running with its Job, and no demo-1.
    api.requests.length = 0;
    await reconciler.reconcile('ns', 'demo');
    assert.deepEqual(deletes(api.requests), [], 'the Job being deleted is not deleted again');
    const patches = api.requests.filter((r) => r.method === 'PATCH' && r.path.includes('/trials/demo-0/'));
    assert.deepEqual(patches, [], 'no second decision (it would fail 409 on the stale resourceVersion)');
    assert.deepEqual(posts(api.requests, 'trials'), []);
    assert.equal(world.trials.find((t) => t.metadata.name === 'demo-0')?.status?.state, 'Failed');
  });

  it('confirms with a live read that a Job missing from the cache is gone before ending its trial', async () => {
    start({ maxTrials: 1, parallelism: 1 });
    world.trials.push(trialObject(0, { state: 'Pending', jobName: 'demo-0' }));
    jobWithPod(world, 'demo-0', 'Pending');
    caches.trials.show(world.trials);
    await reconciler.reconcile('ns', 'demo');
    assert.equal(world.trials[0]?.status?.state, 'Pending', 'the Job exists: the cache missed it');
    world.jobs.length = 0;
    await reconciler.reconcile('ns', 'demo');
    assert.equal(world.trials[0]?.status?.state, 'Failed');
    assert.equal(world.trials[0]?.status?.reason, 'JobDeleted');
  });
});

describe('study reconcile from lagging caches: final values and forgetting', () => {
  let api: FakeApi;
  before(async () => (api = await startFakeApi()));
  after(() => api.close());

  function setup() {
    const world = emptyWorld(studyObject({ maxTrials: 1, parallelism: 1 }));
    serveStudy(api, world);
    const caches = {
      studies: new FrozenCache<StudyObject>(),
      trials: new FrozenCache<TrialObject>(),
      jobs: new FrozenCache<V1Job>(),
      pods: new FrozenCache<V1Pod>(),
    };
    caches.studies.show([world.study]);
    const { logger } = memoryLogger();
    const clients = makeClients(api.kc);
    const tracker = new TrialMetricsTracker({
      kc: api.kc,
      logger,
      recordProgress: async () => {},
      onProgress() {},
    });
    const cache = new StudyCache({
      studies: [caches.studies],
      trials: [caches.trials],
      jobs: [caches.jobs],
      workloads: [],
      pods: [caches.pods],
    });
    const reconciler = new StudyReconciler({
      clients,
      cache,
      tracker,
      events: createEventRecorder(clients.core, logger),
      logger,
    });
    return { world, caches, cache, reconciler, tracker };
  }

  it("reads a finished Job's pod live when the pod cache lags the Job cache, for the final log", async () => {
    const { world, caches, reconciler, tracker } = setup();
    world.trials.push(trialObject(0, { state: 'Running', podName: 'demo-0-pod', jobName: 'demo-0' }));
    jobWithPod(world, 'demo-0', 'Succeeded', [{ type: 'Complete', status: 'True' }]);
    world.logs['demo-0-pod'] =
      '2026-01-01T00:00:01Z epoch=1 loss=0.5\n2026-01-01T00:00:02Z epoch=2 loss=0.25\n';
    caches.trials.show(world.trials);
    caches.jobs.show(world.jobs); // the pod cache has not shown the pod yet
    await reconciler.reconcile('ns', 'demo');
    tracker.stopAll();
    const trial = world.trials[0];
    assert.equal(trial?.status?.state, 'Succeeded', `${trial?.status?.reason}: ${trial?.status?.message}`);
    assert.equal(trial?.status?.objective, 0.25);
  });

  it('drops the expectations of a study once it is gone', async () => {
    const { world, caches, cache, reconciler, tracker } = setup();
    await reconciler.reconcile('ns', 'demo');
    assert.ok(cache.trials.pending() + cache.jobs.pending() + cache.studies.pending() > 0);
    caches.studies.show([]);
    world.trials.length = 0;
    await reconciler.reconcile('ns', 'demo');
    tracker.stopAll();
    assert.equal(cache.trials.pending() + cache.jobs.pending() + cache.studies.pending(), 0);
  });
});

describe('Expectations', () => {
  const trial = (name: string, rv: string): TrialObject => ({
    ...trialObject(0),
    metadata: { ...trialObject(0).metadata, name, resourceVersion: rv },
  });
  const sources = () => ({
    studies: [new FrozenCache<StudyObject>()],
    trials: [new FrozenCache<TrialObject>()],
    jobs: [new FrozenCache<V1Job>()],
    workloads: [],
    pods: [new FrozenCache<V1Pod>()],
  });

  it('shows a write until the cache has that resourceVersion or a newer one', () => {
    const src = sources();
    const cache = new StudyCache(src);
    cache.trials.wrote(trial('demo-0', '10'));
    src.trials[0]!.show([trial('demo-0', '9')]);
    assert.equal(cache.trialsOf('ns', 'demo')[0]?.metadata.resourceVersion, '10');
    src.trials[0]!.show([trial('demo-0', '11')]);
    assert.equal(cache.trialsOf('ns', 'demo')[0]?.metadata.resourceVersion, '11');
    cache.trials.observed(trial('demo-0', '9'));
    assert.equal(cache.trials.pending(), 1, 'an older event does not end the expectation');
    cache.trials.observed(trial('demo-0', '10'));
    assert.equal(cache.trials.pending(), 0);
  });

  it('shows a deleted object as being deleted until the cache delivers the deletion', () => {
    const src = sources();
    const cache = new StudyCache(src);
    const job: V1Job = {
      metadata: { name: 'demo-0', namespace: 'ns', labels: { 'kubetune.io/study': 'demo' } },
    };
    src.jobs[0]!.show([job]);
    cache.jobs.removed('ns', 'demo-0', 'ns/demo');
    assert.ok(cache.jobsOf('ns', 'demo')[0]?.metadata?.deletionTimestamp);
    assert.equal(
      src.jobs[0]!.shown[0]?.metadata?.deletionTimestamp,
      undefined,
      'the cached copy is not mutated',
    );
    cache.jobs.observedDeletion(job);
    assert.equal(cache.jobs.pending(), 0);
    assert.equal(cache.jobsOf('ns', 'demo')[0]?.metadata?.deletionTimestamp, undefined);
  });

  it("reads only the study's own objects, from the informer's index", () => {
    const src = sources();
    const cache = new StudyCache(src);
    const other = {
      ...trial('other-0', '1'),
      metadata: { ...trial('other-0', '1').metadata, labels: { 'kubetune.io/study': 'other' } },
    };
    src.trials[0]!.show([trial('demo-0', '1'), other]);
    assert.deepEqual(names(cache.trialsOf('ns', 'demo')), ['demo-0']);
    assert.deepEqual(names(cache.trialsOf('ns', 'other')), ['other-0']);
    assert.deepEqual(cache.trialsOf('other-ns', 'demo'), []);
  });
});
