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
import { SupervisedInformer } from './runtime/supervised-informer.js';
import {
  apiGroup,
  apiVersionOnly,
  DEFAULT_TRIAL_KINDS,
  isJob,
  type TrialKind,
} from '../api/workload-kinds.js';

export interface StudyInformers {
  studies: SupervisedInformer<StudyObject>[];
  trials: SupervisedInformer<TrialObject>[];
  jobs: SupervisedInformer<V1Job>[];
  /** Trial workloads of the configured kinds other than Job. */
  workloads: SupervisedInformer<KubernetesObject>[];
  pods: SupervisedInformer<V1Pod>[];
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
 * namespaces or one set per watched namespace. Workloads and Pods are filtered by the study
 * label so the operator never caches the rest of the cluster.
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
    labelSelector?: string,
  ) =>
    new SupervisedInformer<T>(c.kc, {
      name,
      path,
      list,
      logger,
      ...(labelSelector ? { labelSelector } : {}),
      ...(maxSilenceMs ? { maxSilenceMs } : {}),
    });

  const custom = <T extends KubernetesObject>(plural: string, scope: Scope) =>
    make<T>(
      `${plural}${scope.namespace ? `/${scope.namespace}` : ''}`,
      customPath(plural, scope),
      async () =>
        (scope.namespace
          ? await c.custom.listNamespacedCustomObject({
              group: GROUP,
              version: VERSION,
              namespace: scope.namespace,
              plural,
            })
          : await c.custom.listCustomObjectForAllNamespaces({
              group: GROUP,
              version: VERSION,
              plural,
            })) as KubernetesListObject<T>,
    );

  return {
    studies: scopes.map((s) => custom<StudyObject>(STUDY_PLURAL, s)),
    trials: scopes.map((s) => custom<TrialObject>(TRIAL_PLURAL, s)),
    jobs: scopes.map((s) =>
      make<V1Job>(
        `jobs${s.namespace ? `/${s.namespace}` : ''}`,
        s.namespace ? `/apis/batch/v1/namespaces/${s.namespace}/jobs` : '/apis/batch/v1/jobs',
        () =>
          s.namespace
            ? c.batch.listNamespacedJob({ namespace: s.namespace, labelSelector: selector })
            : c.batch.listJobForAllNamespaces({ labelSelector: selector }),
        selector,
      ),
    ),
    workloads: trialKinds
      .filter((k) => !isJob(k))
      .flatMap((k) =>
        scopes.map((s) => {
          const group = apiGroup(k.apiVersion);
          const version = apiVersionOnly(k.apiVersion);
          return make<KubernetesObject>(
            `${k.resource}.${group}${s.namespace ? `/${s.namespace}` : ''}`,
            kindPath(k, s),
            async () =>
              (s.namespace
                ? await c.custom.listNamespacedCustomObject({
                    group,
                    version,
                    namespace: s.namespace,
                    plural: k.resource,
                    labelSelector: selector,
                  })
                : await c.custom.listCustomObjectForAllNamespaces({
                    group,
                    version,
                    plural: k.resource,
                    labelSelector: selector,
                  })) as KubernetesListObject<KubernetesObject>,
            selector,
          );
        }),
      ),
    pods: scopes.map((s) =>
      make<V1Pod>(
        `pods${s.namespace ? `/${s.namespace}` : ''}`,
        s.namespace ? `/api/v1/namespaces/${s.namespace}/pods` : '/api/v1/pods',
        () =>
          s.namespace
            ? c.core.listNamespacedPod({ namespace: s.namespace, labelSelector: selector })
            : c.core.listPodForAllNamespaces({ labelSelector: selector }),
        selector,
      ),
    ),
  };
}
