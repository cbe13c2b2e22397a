import { objectKey, type StudyObject, type TrialObject } from './kube/resources.js';

/** What the Study informers offer to the work queue's wiring. */
export interface StudyEvents {
  on(event: 'add' | 'update' | 'delete', cb: (study: StudyObject) => void): void;
  list(): StudyObject[];
}

/**
 * A finished study whose status answers its current spec: there is nothing to do until the
 * spec changes (maxTrials raised, a new budget), which bumps metadata.generation past
 * status.observedGeneration.
 */
export function isSettled(study: StudyObject): boolean {
  const { phase, observedGeneration } = study.status ?? {};
  return (
    (phase === 'Succeeded' || phase === 'Failed') &&
    observedGeneration === (study.metadata.generation ?? 0) &&
    !study.metadata.deletionTimestamp
  );
}

/**
 * Queues a study on its own events and on a periodic resync, except for settled studies: their
 * own final status write and every resync would otherwise reconcile them forever, at a cost
 * that grows with the number of studies ever run. A settled study is still queued when it is
 * first seen (a restart repairs what a crash left undone) and when it is deleted; a spec edit
 * unsettles it. Events of its Trials, Jobs and Pods are queued elsewhere, as they happen.
 * Returns a function that stops the resync.
 */
export function watchStudies(
  informers: StudyEvents[],
  enqueue: (key: string) => void,
  resyncMs: number,
): () => void {
  const queue = (study: StudyObject) => enqueue(objectKey(study));
  for (const inf of informers) {
    inf.on('add', queue);
    inf.on('update', (study) => {
      if (!isSettled(study)) queue(study);
    });
    inf.on('delete', queue);
  }
  const resync = setInterval(() => {
    for (const study of informers.flatMap((i) => i.list())) if (!isSettled(study)) queue(study);
  }, resyncMs);
  return () => clearInterval(resync);
}

/**
 * A Trial update that only brings new intermediate values or metrics: the operator's own batched
 * progress writes, several a second with hundreds of running trials. Nothing but pruning can be
 * decided on them, and the tracker asks for that reconcile itself when a write reaches a step the
 * pruner judges (TrialMetricsTracker), so the event is not queued: queued, it kept every study
 * busy and a finished trial waited in line behind them.
 */
export function isProgressOnly(previous: TrialObject | undefined, trial: TrialObject): boolean {
  if (!previous) return false;
  const rest = (t: TrialObject) => {
    const { intermediate: _i, metrics: _m, ...status } = t.status ?? {};
    const { resourceVersion: _rv, managedFields: _mf, ...metadata } = t.metadata;
    return JSON.stringify([metadata, t.spec, status]);
  };
  return rest(previous) === rest(trial);
}
