import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StudyObject } from '../../../src/operator/kube/resources.js';
import { watchStudies, type StudyEvents } from '../../../src/operator/study-triggers.js';

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
