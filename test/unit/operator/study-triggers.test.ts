import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StudyObject, TrialObject } from '../../../src/operator/kube/resources.js';
import { isProgressOnly, watchStudies, type StudyEvents } from '../../../src/operator/study-triggers.js';

type Cb = (study: StudyObject) => void;

class Studies implements StudyEvents {
  readonly cbs: Record<string, Cb[]> = { add: [], update: [], delete: [] };
  items: StudyObject[] = [];
  on(event: 'add' | 'update' | 'delete', cb: Cb): void {
    this.cbs[event]!.push(cb);
  }
  list(): StudyObject[] {
    return this.items;
  }
  emit(event: 'add' | 'update' | 'delete', study: StudyObject): void {
    for (const cb of this.cbs[event]!) cb(study);
  }
}

const study = (name: string, generation: number, status?: StudyObject['status']): StudyObject => ({
  metadata: { name, namespace: 'ns', generation },
  spec: {},
  ...(status ? { status } : {}),
});
const finished = (name: string, generation = 1, observedGeneration = generation) =>
  study(name, generation, { phase: 'Succeeded', observedGeneration });

describe('watchStudies', () => {
  it('does not queue a finished study on its own status writes, but on a spec change or deletion', () => {
    const inf = new Studies();
    const queued: string[] = [];
    const stop = watchStudies([inf], (k) => queued.push(k), 60_000);
    try {
      inf.emit('update', study('running', 1, { phase: 'Running', observedGeneration: 1 }));
      inf.emit('update', finished('done'));
      inf.emit('update', study('failed', 3, { phase: 'Failed', observedGeneration: 3 }));
      assert.deepEqual(queued, ['ns/running']);
      inf.emit('update', finished('done', 2, 1)); // maxTrials raised: generation 2 not yet observed
      inf.emit('delete', finished('done', 2, 2));
      inf.emit('add', finished('old'));
      assert.deepEqual(queued, ['ns/running', 'ns/done', 'ns/done', 'ns/old']);
    } finally {
      stop();
    }
  });

  it('resyncs only the studies that are not finished', async () => {
    const inf = new Studies();
    inf.items = [
      finished('done'),
      study('running', 1, { phase: 'Running', observedGeneration: 1 }),
      finished('raised', 2, 1),
      {
        ...finished('deleting'),
        metadata: { ...finished('deleting').metadata, deletionTimestamp: new Date() },
      },
    ];
    const queued: string[] = [];
    const stop = watchStudies([inf], (k) => queued.push(k), 5);
    try {
      while (queued.length < 6) await sleep(5);
    } finally {
      stop();
    }
    assert.deepEqual(new Set(queued), new Set(['ns/running', 'ns/raised', 'ns/deleting']));
  });
});

describe('trial updates that queue their study', () => {
  const running: TrialObject = {
    apiVersion: 'kubetune.io/v1alpha1',
    kind: 'Trial',
    metadata: {
      name: 'demo-0',
      namespace: 'ns',
      resourceVersion: '10',
      labels: { 'kubetune.io/study': 'demo' },
    },
    spec: { study: 'demo', index: 0, parameters: { x: '0.5' } },
    status: { state: 'Running', podName: 'demo-0-abc', intermediate: [{ step: 1, value: 0.9 }] },
  };
  const next = (status: Partial<NonNullable<TrialObject['status']>>, extra: Partial<TrialObject> = {}) => ({
    ...running,
    ...extra,
    metadata: { ...running.metadata, resourceVersion: '11', ...extra.metadata },
    status: { ...running.status!, ...status },
  });

  it('leaves out the batched progress writes: new intermediate values or metrics alone', () => {
    const progress = next({ intermediate: [...running.status!.intermediate!, { step: 2, value: 0.8 }] });
    assert.equal(isProgressOnly(running, progress), true);
    assert.equal(isProgressOnly(running, next({ metrics: { loss: 0.8 } })), true);
  });

  it('queues every other change, and a trial seen for the first time', () => {
    assert.equal(isProgressOnly(undefined, running), false);
    assert.equal(isProgressOnly(running, next({ state: 'Succeeded', objective: 0.8 })), false);
    assert.equal(isProgressOnly(running, next({ podName: 'demo-0-retry', intermediate: [] })), false);
    const deleting = next({}, { metadata: { ...running.metadata, deletionTimestamp: new Date() } });
    assert.equal(isProgressOnly(running, deleting), false);
  });
});
