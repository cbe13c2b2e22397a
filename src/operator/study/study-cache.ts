import type { KubernetesObject, V1Job, V1Pod } from '@kubernetes/client-node';
import { isJob, sameType, type TrialKind } from '../../api/workload-kinds.js';
import { LABEL_STUDY, objectKey, type StudyObject, type TrialObject } from '../kube/resources.js';

/**
 * How long a write of this operator stands in for the informer's view of the object. client-go's
 * ControllerExpectations use the same 5 minutes: an informer that has not delivered an event
 * by then has restarted and relisted, or the object is gone.
 */
export const EXPECTATION_TIMEOUT_MS = 5 * 60_000;

/** What a study's reads need from an informer (or several, one per watched namespace). */
export interface CacheSource<T> {
  /** The objects of one study: `indexed(studyIndexKey(namespace, study))`. */
  indexed(value: string): T[];
  get(name: string, namespace?: string): T | undefined;
}

/** The secondary index the Trial, Job and Pod informers keep: namespace and study label. */
export const studyIndexKey = (namespace: string, study: string) => `${namespace}/${study}`;

export const studyIndexOf = (o: KubernetesObject): string | undefined => {
  const study = o.metadata?.labels?.[LABEL_STUDY];
  return study && o.metadata?.namespace ? studyIndexKey(o.metadata.namespace, study) : undefined;
};

/**
 * Orders two resourceVersions. The apiserver calls them opaque, but an etcd-backed one is a
 * counter (client-go's MutationCache compares them the same way); anything else is undefined.
 */
function compareVersions(a: string | undefined, b: string | undefined): number | undefined {
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined;
  const [x, y] = [BigInt(a), BigInt(b)];
  return x === y ? 0 : x < y ? -1 : 1;
}

/** Whether the cache's copy is at least as new as what the operator wrote. */
function caughtUp(written: KubernetesObject, cached: KubernetesObject): boolean {
  const [w, c] = [written.metadata?.resourceVersion, cached.metadata?.resourceVersion];
  const order = compareVersions(w, c);
  return order === undefined ? w === c : order <= 0;
}

/**
 * The objects of one kind as this operator last wrote them, until its informer has caught up:
 * client-go's ControllerExpectations and MutationCache in one. A create or update is expected
 * until the informer delivers that resourceVersion or a newer one; a delete until the informer
 * delivers the deletion. Entries older than EXPECTATION_TIMEOUT_MS are dropped.
 */
export class Expectations<T extends KubernetesObject> {
  private readonly written = new Map<string, { obj: T; at: number }>();
  private readonly deleted = new Map<string, { index: string | undefined; at: number }>();
  /** Pending writes per study index, so a study's view does not scan every pending write. */
  private readonly byStudy = new Map<string, Set<string>>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The operator created or updated `obj` (the apiserver's answer). */
  wrote(obj: T): void {
    const key = objectKey(obj);
    const known = this.written.get(key);
    if (known && compareVersions(known.obj.metadata?.resourceVersion, obj.metadata?.resourceVersion) === 1)
      return;
    this.written.set(key, { obj, at: this.now() });
    this.deleted.delete(key);
    this.link(key, studyIndexOf(obj));
  }

  /** The operator deleted the object (or asked for its deletion). */
  removed(namespace: string, name: string, index: string | undefined): void {
    const key = `${namespace}/${name}`;
    this.unwrite(key);
    this.deleted.set(key, { index, at: this.now() });
    this.link(key, index);
  }

  /** The informer delivered `obj` (add or update). */
  observed(obj: T): void {
    const key = objectKey(obj);
    const known = this.written.get(key);
    if (known && caughtUp(known.obj, obj)) this.unwrite(key);
  }

  /** The informer delivered the deletion of `obj`. */
  observedDeletion(obj: T): void {
    const key = objectKey(obj);
    this.unwrite(key);
    if (this.deleted.delete(key)) this.unlink(key, studyIndexOf(obj));
  }

  /**
   * The cached objects with this operator's unobserved writes laid over them: a created object
   * the cache lacks is added, an updated one replaces its older cached copy, and a deleted one
   * is shown as being deleted (deletionTimestamp set) until the cache drops it.
   */
  overlay(index: string, cached: T[]): T[] {
    const keys = this.byStudy.get(index);
    if (!keys) return cached;
    this.expire(keys);
    const out = new Map(cached.map((o) => [objectKey(o), o]));
    for (const key of keys) {
      const w = this.written.get(key);
      const cachedObj = out.get(key);
      if (w && !(cachedObj && caughtUp(w.obj, cachedObj))) out.set(key, w.obj);
      const known = out.get(key);
      if (this.deleted.has(key) && known && !known.metadata?.deletionTimestamp)
        out.set(key, { ...known, metadata: { ...known.metadata, deletionTimestamp: new Date(this.now()) } });
    }
    return [...out.values()];
  }

  /**
   * One object the cache has, or this operator's newer write of it. An object the cache lacks
   * is gone: the operator only writes what it first read from the cache.
   */
  newer(cached: T | undefined): T | undefined {
    if (!cached) return undefined;
    const w = this.written.get(objectKey(cached));
    if (!w || caughtUp(w.obj, cached) || this.now() - w.at > EXPECTATION_TIMEOUT_MS) return cached;
    return w.obj;
  }

  /** Drops what is expected of the objects of a study that is gone. */
  forget(index: string): void {
    for (const key of [...(this.byStudy.get(index) ?? [])]) this.forgetKey(key);
  }

  /** Drops what is expected of one object. */
  forgetKey(key: string): void {
    this.unwrite(key);
    const d = this.deleted.get(key);
    if (d && this.deleted.delete(key)) this.unlink(key, d.index);
  }

  /** Writes and deletions not yet observed (for tests and metrics). */
  pending(): number {
    return this.written.size + this.deleted.size;
  }

  private expire(keys: Set<string>): void {
    const stale = this.now() - EXPECTATION_TIMEOUT_MS;
    for (const key of [...keys]) {
      const w = this.written.get(key);
      if (w && w.at < stale) this.unwrite(key);
      const d = this.deleted.get(key);
      if (d && d.at < stale) {
        this.deleted.delete(key);
        this.unlink(key, d.index);
      }
    }
  }

  private unwrite(key: string): void {
    const w = this.written.get(key);
    if (!w) return;
    this.written.delete(key);
    if (!this.deleted.has(key)) this.unlink(key, studyIndexOf(w.obj));
  }

  private link(key: string, index: string | undefined): void {
    if (index === undefined) return;
    let keys = this.byStudy.get(index);
    if (!keys) this.byStudy.set(index, (keys = new Set()));
    keys.add(key);
  }

  private unlink(key: string, index: string | undefined): void {
    if (index === undefined) return;
    const keys = this.byStudy.get(index);
    keys?.delete(key);
    if (keys?.size === 0) this.byStudy.delete(index);
  }
}

/** The informers a study's reads come from; several per kind when namespaces are listed. */
export interface StudySources {
  studies: CacheSource<StudyObject>[];
  trials: CacheSource<TrialObject>[];
  jobs: CacheSource<V1Job>[];
  /** The other configured trial kinds (JobSet, TrainJob, custom), all kinds together. */
  workloads: CacheSource<KubernetesObject>[];
  pods: CacheSource<V1Pod>[];
}

/**
 * A study's objects read from the informers' caches, corrected by what this operator wrote and
 * the caches have not shown yet (see Expectations). The manager feeds every informer event to
 * `observe*`, so an expectation ends as soon as the cache has caught up.
 */
export class StudyCache {
  readonly studies: Expectations<StudyObject>;
  readonly trials: Expectations<TrialObject>;
  readonly jobs: Expectations<V1Job>;
  /** Writes of the other trial kinds; object keys do not collide, as one study uses one kind. */
  readonly others: Expectations<KubernetesObject>;

  constructor(
    private readonly sources: StudySources,
    now: () => number = Date.now,
  ) {
    this.studies = new Expectations(now);
    this.trials = new Expectations(now);
    this.jobs = new Expectations(now);
    this.others = new Expectations(now);
  }

  /** The expectations of a trial kind's writes. */
  workloads(kind: TrialKind): Expectations<KubernetesObject> {
    return isJob(kind) ? (this.jobs as Expectations<KubernetesObject>) : this.others;
  }

  study(namespace: string, name: string): StudyObject | undefined {
    return this.studies.newer(first(this.sources.studies, (s) => s.get(name, namespace)));
  }

  trialsOf(namespace: string, study: string): TrialObject[] {
    const index = studyIndexKey(namespace, study);
    return this.trials.overlay(index, gather(this.sources.trials, index));
  }

  jobsOf(namespace: string, study: string): V1Job[] {
    const index = studyIndexKey(namespace, study);
    return this.jobs.overlay(index, gather(this.sources.jobs, index));
  }

  /** The study's trial workloads of one kind. */
  workloadsOf(namespace: string, study: string, kind: TrialKind): KubernetesObject[] {
    if (isJob(kind)) return this.jobsOf(namespace, study);
    const index = studyIndexKey(namespace, study);
    return this.others
      .overlay(index, gather(this.sources.workloads, index))
      .filter((o) => sameType({ apiVersion: o.apiVersion ?? '', kind: o.kind ?? '' }, kind));
  }

  /** The study is gone: nothing written for it is expected any more. */
  forget(namespace: string, study: string): void {
    const index = studyIndexKey(namespace, study);
    this.trials.forget(index);
    this.jobs.forget(index);
    this.others.forget(index);
    this.studies.forgetKey(`${namespace}/${study}`);
  }

  /** Pods are created by the Job controller, never by the operator: nothing to expect. */
  podsOf(namespace: string, study: string): V1Pod[] {
    return gather(this.sources.pods, studyIndexKey(namespace, study));
  }
}

const gather = <T>(sources: CacheSource<T>[], index: string): T[] =>
  sources.length === 1
    ? (sources[0] as CacheSource<T>).indexed(index)
    : sources.flatMap((s) => s.indexed(index));

function first<T>(sources: CacheSource<T>[], get: (s: CacheSource<T>) => T | undefined): T | undefined {
  for (const s of sources) {
    const found = get(s);
    if (found) return found;
  }
  return undefined;
}
