import type { KubernetesListObject, KubernetesObject, V1Job, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeClients } from './kube/clients.js';
import {
  GROUP,
  LABEL_STUDY,
  STUDY_PLURAL,
  TRIAL_PLURAL,
  VERSION,
  type StudyObject,
  type TrialObject,
} from './kube/resources.js';
import { trimJob, trimOwn, trimPod } from './kube/transforms.js';
import { paginate } from './runtime/list-watch.js';
import { SupervisedInformer } from './runtime/supervised-informer.js';
import {
  apiGroup,
  apiVersionOnly,
  DEFAULT_TRIAL_KINDS,
  isJob,
  type TrialKind,
} from '../api/workload-kinds.js';
import { studyIndexOf } from './study/study-cache.js';

export interface StudyInformers {
  studies: SupervisedInformer<StudyObject>[];
  trials: SupervisedInformer<TrialObject>[];
  jobs: SupervisedInformer<V1Job>[];
  /** Trial workloads of the configured kinds other than Job. */
  workloads: SupervisedInformer<KubernetesObject>[];
  /** The same informers by kind: a kind whose CRD is missing must not hold up the others. */
  workloadKinds: KindInformers[];
  pods: SupervisedInformer<V1Pod>[];
}

export interface KindInformers {
  kind: TrialKind;
  informers: SupervisedInformer<KubernetesObject>[];
}

type Scope = { namespace?: string };

const customPath = (plural: string, { namespace }: Scope) =>
  namespace
    ? `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}`
    : `/apis/${GROUP}/${VERSION}/${plural}`;

const kindPath = (k: TrialKind, { namespace }: Scope) => {
  const base = `/apis/${k.apiVersion}`;
  return namespace ? `${base}/namespaces/${namespace}/${k.resource}` : `${base}/${k.resource}`;
};

/**
 * Informers on Studies, Trials, Jobs, the other configured trial kinds and Pods, for all
 * namespaces or one set per watched namespace, listed in pages and watched with bookmarks.
 * Workloads and Pods are filtered by the study label so the operator never caches the rest of
 * the cluster, and every object is trimmed to what the operator reads (kube/transforms.ts)
 * before it is cached. Trials, workloads and Pods are indexed by namespace and study label: a
 * reconcile reads one study's objects, not the whole cache.
 */
export function createInformers(
  c: KubeClients,
  namespaces: string[],
  logger: Logger,
  maxSilenceMs?: number,
  trialKinds: TrialKind[] = DEFAULT_TRIAL_KINDS,
): StudyInformers {
  const scopes: Scope[] = namespaces.length ? namespaces.map((namespace) => ({ namespace })) : [{}];
  const selector = LABEL_STUDY;
  const make = <T extends KubernetesObject>(
    name: string,
    path: string,
    list: () => Promise<KubernetesListObject<T>>,
    transform: (obj: T) => T,
    labelSelector?: string,
    byStudy = true,
  ) =>
    new SupervisedInformer<T>(c.kc, {
      name,
      path,
      list,
      logger,
      transform,
      ...(byStudy ? { indexBy: studyIndexOf } : {}),
      ...(labelSelector ? { labelSelector } : {}),
      ...(maxSilenceMs ? { maxSilenceMs } : {}),
    });

  const custom = <T extends KubernetesObject>(plural: string, scope: Scope, byStudy: boolean) =>
    make<T>(
      `${plural}${scope.namespace ? `/${scope.namespace}` : ''}`,
      customPath(plural, scope),
      () =>
        paginate<T>(
          async (page) =>
            (scope.namespace
              ? await c.custom.listNamespacedCustomObject({
                  group: GROUP,
                  version: VERSION,
                  namespace: scope.namespace,
                  plural,
                  ...page,
                })
              : await c.custom.listCustomObjectForAllNamespaces({
                  group: GROUP,
                  version: VERSION,
                  plural,
                  ...page,
                })) as KubernetesListObject<T>,
        ),
      trimOwn,
      undefined,
      byStudy,
    );

  const workload = (k: TrialKind, s: Scope) => {
    const group = apiGroup(k.apiVersion);
    const version = apiVersionOnly(k.apiVersion);
    return make<KubernetesObject>(
      `${k.resource}.${group}${s.namespace ? `/${s.namespace}` : ''}`,
      kindPath(k, s),
      () =>
        paginate<KubernetesObject>(
          async (page) =>
            (s.namespace
              ? await c.custom.listNamespacedCustomObject({
                  group,
                  version,
                  namespace: s.namespace,
                  plural: k.resource,
                  labelSelector: selector,
                  ...page,
                })
              : await c.custom.listCustomObjectForAllNamespaces({
                  group,
                  version,
                  plural: k.resource,
                  labelSelector: selector,
                  ...page,
                })) as KubernetesListObject<KubernetesObject>,
        ),
      // Any kind's status is the user's CEL input, so only managedFields can go.
      trimOwn,
      selector,
    );
  };

  const workloadKinds = trialKinds
    .filter((k) => !isJob(k))
    .map((kind) => ({ kind, informers: scopes.map((s) => workload(kind, s)) }));
  return {
    studies: scopes.map((s) => custom<StudyObject>(STUDY_PLURAL, s, false)),
    trials: scopes.map((s) => custom<TrialObject>(TRIAL_PLURAL, s, true)),
    jobs: scopes.map((s) =>
      make<V1Job>(
        `jobs${s.namespace ? `/${s.namespace}` : ''}`,
        s.namespace ? `/apis/batch/v1/namespaces/${s.namespace}/jobs` : '/apis/batch/v1/jobs',
        () =>
          paginate((page) =>
            s.namespace
              ? c.batch.listNamespacedJob({ namespace: s.namespace, labelSelector: selector, ...page })
              : c.batch.listJobForAllNamespaces({ labelSelector: selector, ...page }),
          ),
        trimJob,
        selector,
      ),
    ),
    workloads: workloadKinds.flatMap((k) => k.informers),
    workloadKinds,
    pods: scopes.map((s) =>
      make<V1Pod>(
        `pods${s.namespace ? `/${s.namespace}` : ''}`,
        s.namespace ? `/api/v1/namespaces/${s.namespace}/pods` : '/api/v1/pods',
        () =>
          paginate((page) =>
            s.namespace
              ? c.core.listNamespacedPod({ namespace: s.namespace, labelSelector: selector, ...page })
              : c.core.listPodForAllNamespaces({ labelSelector: selector, ...page }),
          ),
        trimPod,
        selector,
      ),
    ),
  };
}
