import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { Condition, StudyStatus } from '../../api/study.js';
import type { TrialStatus } from '../../api/trial.js';
import type { KubeClients } from '../kube/clients.js';
import { KUEUE_GROUP, KUEUE_VERSION, type KueueWorkload } from './queued-trials.js';
import { studyIndexKey, type StudyCache } from './study-cache.js';
import { MERGE_PATCH } from '../kube/clients.js';
import {
  apiGroup,
  apiVersionOnly,
  isJob,
  JOBSET_NAME_LABEL,
  sameType,
  TRAINJOB,
  type TrialKind,
} from '../../api/workload-kinds.js';
import type { TrialWorkload } from '../trials/job-builder.js';
import { isAlreadyExists, isNotFound } from '../runtime/kube-errors.js';
import {
  GROUP,
  LABEL_STUDY,
  STUDY_PLURAL,
  TRIAL_PLURAL,
  VERSION,
  type StudyObject,
  type TrialObject,
} from '../kube/resources.js';

const customPath = (kind: TrialKind) => ({
  group: apiGroup(kind.apiVersion),
  version: apiVersionOnly(kind.apiVersion),
  plural: kind.resource,
});

/**
 * The API calls a study reconcile makes, in one place. With a StudyCache (the operator), the
 * Study, its Trials, Jobs and Pods are read from the informers' caches, and every write is
 * recorded there as an expectation: a cache that lags a just-created Trial or Job still shows
 * it, so the engine never plans past maxTrials or parallelism on a stale view. Without one
 * (unit tests of error paths against a fake apiserver), they are read live.
 */
export class TrialStore {
  constructor(
    private readonly c: KubeClients,
    private readonly cache?: StudyCache,
  ) {}

  async getStudy(namespace: string, name: string): Promise<StudyObject | undefined> {
    if (this.cache) return this.cache.study(namespace, name);
    try {
      return (await this.c.custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: STUDY_PLURAL,
        name,
      })) as StudyObject;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async listTrials(namespace: string, study: string): Promise<TrialObject[]> {
    if (this.cache) return this.cache.trialsOf(namespace, study);
    const list = (await this.c.custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: TRIAL_PLURAL,
      labelSelector: `${LABEL_STUDY}=${study}`,
    })) as { items: TrialObject[] };
    return list.items;
  }

  /** The study's trial workloads, of the kind its template names. */
  async listTrialWorkloads(namespace: string, study: string, kind: TrialKind): Promise<TrialWorkload[]> {
    if (this.cache) return this.cache.workloadsOf(namespace, study, kind);
    const labelSelector = `${LABEL_STUDY}=${study}`;
    if (isJob(kind)) return (await this.c.batch.listNamespacedJob({ namespace, labelSelector })).items;
    const list = (await this.c.custom.listNamespacedCustomObject({
      ...customPath(kind),
      namespace,
      labelSelector,
    })) as { items: TrialWorkload[] };
    return list.items;
  }

  /**
   * The study's pods. A TrainJob's pods come from its runtime without kubetune's labels, so no
   * informer caches them: for those the JobSet-made pods of the namespace are listed live too.
   */
  async listPods(namespace: string, study: string, kind?: TrialKind): Promise<V1Pod[]> {
    const trainJob = kind !== undefined && sameType(kind, TRAINJOB);
    if (this.cache && !trainJob) return this.cache.podsOf(namespace, study);
    const selectors = [`${LABEL_STUDY}=${study}`];
    if (trainJob) selectors.push(JOBSET_NAME_LABEL);
    const lists = await Promise.all(
      selectors.map((labelSelector) => this.c.core.listNamespacedPod({ namespace, labelSelector })),
    );
    const byUid = new Map(lists.flatMap((l) => l.items).map((p) => [p.metadata?.uid, p]));
    return [...byUid.values()];
  }

  /**
   * The namespace's Kueue Workloads. Kueue does not copy the Job's labels to its Workload, so
   * they cannot be selected per study; one list per reconcile that has a queued trial.
   */
  async listWorkloads(namespace: string): Promise<KueueWorkload[]> {
    const list = (await this.c.custom.listNamespacedCustomObject({
      group: KUEUE_GROUP,
      version: KUEUE_VERSION,
      namespace,
      plural: 'workloads',
    })) as { items: KueueWorkload[] };
    return list.items;
  }

  /** Creates the Trial, or returns the one a previous (crashed) reconcile already created. */
  async createTrial(trial: TrialObject): Promise<{ trial: TrialObject; created: boolean }> {
    const { namespace, name } = trial.metadata;
    try {
      const created = (await this.c.custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: TRIAL_PLURAL,
        body: trial,
      })) as TrialObject;
      this.cache?.trials.wrote(created);
      return { trial: created, created: true };
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = (await this.c.custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: TRIAL_PLURAL,
        name,
      })) as TrialObject;
      this.cache?.trials.wrote(existing);
      return { trial: existing, created: false };
    }
  }

  /** Creates the trial's workload; false when it exists already (created before a restart). */
  async createWorkload(workload: TrialWorkload, kind: TrialKind): Promise<boolean> {
    const namespace = workload.metadata?.namespace as string;
    try {
      const created = isJob(kind)
        ? await this.c.batch.createNamespacedJob({ namespace, body: workload as V1Job })
        : ((await this.c.custom.createNamespacedCustomObject({
            ...customPath(kind),
            namespace,
            body: workload,
          })) as TrialWorkload);
      this.cache?.workloads(kind).wrote(created);
      return true;
    } catch (err) {
      if (isAlreadyExists(err)) return false;
      throw err;
    }
  }

  /** Deletes the whole workload: Foreground, so its Jobs and pods are gone before it is. */
  async deleteWorkload(namespace: string, name: string, kind: TrialKind, study: string): Promise<void> {
    const propagationPolicy = 'Foreground';
    try {
      if (isJob(kind)) await this.c.batch.deleteNamespacedJob({ namespace, name, propagationPolicy });
      else
        await this.c.custom.deleteNamespacedCustomObject({
          ...customPath(kind),
          namespace,
          name,
          propagationPolicy,
        });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.cache?.workloads(kind).removed(namespace, name, studyIndexKey(namespace, study));
  }

  /**
   * The pods of a finished Job whose pods the cache does not show (yet): a live (quorum) read,
   * since the pod's log holds the trial's final values. Undefined when reads are live already.
   */
  async finishedJobPods(namespace: string, study: string): Promise<V1Pod[] | undefined> {
    if (!this.cache) return undefined;
    return (await this.c.core.listNamespacedPod({ namespace, labelSelector: `${LABEL_STUDY}=${study}` }))
      .items;
  }

  /**
   * Whether a workload missing from the cached list is really gone. A cached list may have
   * missed it (a lagging or restarting informer), so this is a live (quorum) read: ending a trial
   * as JobDeleted is final. A live list already was one.
   */
  async workloadGone(namespace: string, name: string, kind: TrialKind): Promise<boolean> {
    if (!this.cache) return true;
    try {
      if (isJob(kind)) await this.c.batch.readNamespacedJob({ namespace, name });
      else await this.c.custom.getNamespacedCustomObject({ ...customPath(kind), namespace, name });
      return false;
    } catch (err) {
      if (isNotFound(err)) return true;
      throw err;
    }
  }

  /**
   * Writes a decision about a trial. With `resourceVersion` the write is conditional: it fails
   * with 409 if the Trial changed since it was read, so a decision made from a stale view (e.g.
   * Pruned, by a writer that missed the Succeeded) is never written over a newer one.
   */
  async patchTrialStatus(
    namespace: string,
    name: string,
    status: Partial<TrialStatus>,
    resourceVersion?: string,
  ): Promise<TrialObject> {
    const body = { ...(resourceVersion ? { metadata: { resourceVersion } } : {}), status };
    const patched = (await this.c.custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, namespace, plural: TRIAL_PLURAL, name, body },
      MERGE_PATCH,
    )) as TrialObject;
    this.cache?.trials.wrote(patched);
    return patched;
  }

  /**
   * Records a running trial's latest values, only while it is still Running (a JSON patch
   * `test`): a late write can never change what a terminal trial recorded. A trial that is no
   * longer Running answers 422.
   */
  async recordProgress(
    namespace: string,
    name: string,
    values: Pick<TrialStatus, 'intermediate' | 'metrics'>,
  ): Promise<void> {
    const body = [
      { op: 'test', path: '/status/state', value: 'Running' },
      ...Object.entries(values).map(([key, value]) => ({ op: 'add', path: `/status/${key}`, value })),
    ];
    const patched = (await this.c.custom.patchNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: TRIAL_PLURAL,
      name,
      body,
    })) as TrialObject;
    this.cache?.trials.wrote(patched);
  }

  /** Replaces the conditions alone, leaving the rest of the status as it is. */
  async patchStudyConditions(namespace: string, name: string, conditions: Condition[]): Promise<void> {
    const patched = (await this.c.custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace,
        plural: STUDY_PLURAL,
        name,
        body: { status: { conditions } },
      },
      MERGE_PATCH,
    )) as StudyObject;
    this.cache?.studies.wrote(patched);
  }

  async patchStudyStatus(namespace: string, name: string, status: StudyStatus): Promise<void> {
    // Merge patch with nulls for fields that disappeared (e.g. bestTrial after trials are
    // deleted, priors after spec.priorStudies was emptied, paretoFront after a Study without
    // trials went from objectives to objective).
    const body = {
      status: { bestTrial: null, completionTime: null, priors: null, paretoFront: null, ...status },
    };
    const patched = (await this.c.custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, namespace, plural: STUDY_PLURAL, name, body },
      MERGE_PATCH,
    )) as StudyObject;
    this.cache?.studies.wrote(patched);
  }
}
