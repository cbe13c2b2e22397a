import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { Condition, StudyStatus } from '../../api/study.js';
import type { TrialStatus } from '../../api/trial.js';
import type { KubeClients } from '../kube/clients.js';
import { KUEUE_GROUP, KUEUE_VERSION, type KueueWorkload } from './queued-trials.js';
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
 * The API calls a study reconcile makes, in one place. Trials, Jobs and Pods are listed live
 * rather than read from informer caches: a cache that lags a just-created Trial would let the
 * engine plan past maxTrials, and one LIST per kind per reconcile is cheap.
 */
export class TrialStore {
  constructor(private readonly c: KubeClients) {}

  async getStudy(namespace: string, name: string): Promise<StudyObject | undefined> {
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
   * The study's pods; a TrainJob's pods come from its runtime without kubetune's labels, so for
   * those the JobSet-made pods of the namespace are listed too.
   */
  async listPods(namespace: string, study: string, kind?: TrialKind): Promise<V1Pod[]> {
    const selectors = [`${LABEL_STUDY}=${study}`];
    if (kind && sameType(kind, TRAINJOB)) selectors.push(JOBSET_NAME_LABEL);
    const lists = await Promise.all(
      selectors.map((labelSelector) => this.c.core.listNamespacedPod({ namespace, labelSelector })),
    );
    const byUid = new Map(lists.flatMap((l) => l.items).map((p) => [p.metadata?.uid, p]));
    return [...byUid.values()];
  }

  /** Creates the Trial, or returns the one a previous (crashed) reconcile already created. */
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
      return { trial: existing, created: false };
    }
  }

  /** Creates the trial's workload; false when it exists already (created before a restart). */
  async createWorkload(workload: TrialWorkload, kind: TrialKind): Promise<boolean> {
    const namespace = workload.metadata?.namespace as string;
    try {
      if (isJob(kind)) await this.c.batch.createNamespacedJob({ namespace, body: workload as V1Job });
      else
        await this.c.custom.createNamespacedCustomObject({ ...customPath(kind), namespace, body: workload });
      return true;
    } catch (err) {
      if (isAlreadyExists(err)) return false;
      throw err;
    }
  }

  /** Deletes the whole workload: Foreground, so its Jobs and pods are gone before it is. */
  async deleteWorkload(namespace: string, name: string, kind: TrialKind): Promise<void> {
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
    return (await this.c.custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, namespace, plural: TRIAL_PLURAL, name, body },
      MERGE_PATCH,
    )) as TrialObject;
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
    await this.c.custom.patchNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: TRIAL_PLURAL,
      name,
      body,
    });
  }

  /** Replaces the conditions alone, leaving the rest of the status as it is. */
  async patchStudyConditions(namespace: string, name: string, conditions: Condition[]): Promise<void> {
    await this.c.custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace,
        plural: STUDY_PLURAL,
        name,
        body: { status: { conditions } },
      },
      MERGE_PATCH,
    );
  }

  async patchStudyStatus(namespace: string, name: string, status: StudyStatus): Promise<void> {
    // Merge patch with nulls for fields that disappeared (e.g. bestTrial after trials are deleted).
    const body = { status: { bestTrial: null, completionTime: null, ...status } };
    await this.c.custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, namespace, plural: STUDY_PLURAL, name, body },
      MERGE_PATCH,
    );
  }
}
