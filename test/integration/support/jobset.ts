// JobSet as the test cluster runs it (test/cluster/jobset.sh): helpers to create JobSets and to
// read their conditions and pods, for tests of the cluster and of JobSet trials alike.
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { V1Condition, V1Pod } from '@kubernetes/client-node';
import { isNotFound, kubeconfigPath, type Clients } from './cluster.js';

export const JOBSET_GROUP = 'jobset.x-k8s.io';
export const JOBSET_VERSION = 'v1alpha2';
const PLURAL = 'jobsets';
/** Labels JobSet puts on every pod it creates. */
export const JOBSET_NAME_LABEL = 'jobset.sigs.k8s.io/jobset-name';
export const JOB_INDEX_LABEL = 'jobset.sigs.k8s.io/job-index';

/** The fields of a JobSet these tests read and write. */
export interface JobSet {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string };
  spec: Record<string, unknown>;
  status?: { conditions?: V1Condition[] };
}

export function jobSetApi(c: Clients): CustomObjectsApi {
  return c.kc.makeApiClient(CustomObjectsApi);
}

export async function createJobSet(c: Clients, namespace: string, js: JobSet): Promise<JobSet> {
  const body = { apiVersion: `${JOBSET_GROUP}/${JOBSET_VERSION}`, kind: 'JobSet', ...js };
  try {
    return (await jobSetApi(c).createNamespacedCustomObject({
      group: JOBSET_GROUP,
      version: JOBSET_VERSION,
      namespace,
      plural: PLURAL,
      body,
    })) as JobSet;
  } catch (err) {
    if (!isNotFound(err)) throw err;
    throw new Error(
      `the test cluster at ${kubeconfigPath} has no JobSet controller (${JOBSET_GROUP}/${JOBSET_VERSION} is not served): ` +
        'restart it with `npm run cluster:up`, which starts JobSet (test/cluster/README.md)',
    );
  }
}

export async function readJobSet(c: Clients, namespace: string, name: string): Promise<JobSet> {
  return (await jobSetApi(c).getNamespacedCustomObject({
    group: JOBSET_GROUP,
    version: JOBSET_VERSION,
    namespace,
    plural: PLURAL,
    name,
  })) as JobSet;
}

/** Deletes the JobSet in the background, as `kubectl delete` does: its Jobs and pods follow. */
export async function deleteJobSet(c: Clients, namespace: string, name: string): Promise<void> {
  await jobSetApi(c).deleteNamespacedCustomObject({
    group: JOBSET_GROUP,
    version: JOBSET_VERSION,
    namespace,
    plural: PLURAL,
    name,
    propagationPolicy: 'Background',
  });
}

/** The JobSet's condition of this type when its status is True. */
export function trueCondition(js: JobSet, type: string): V1Condition | undefined {
  return js.status?.conditions?.find((cond) => cond.type === type && cond.status === 'True');
}

/** The JobSet's pods, ordered by job index. */
export async function jobSetPods(c: Clients, namespace: string, name: string): Promise<V1Pod[]> {
  const list = await c.core.listNamespacedPod({ namespace, labelSelector: `${JOBSET_NAME_LABEL}=${name}` });
  const index = (p: V1Pod) => Number(p.metadata?.labels?.[JOB_INDEX_LABEL]);
  return list.items.sort((a, b) => index(a) - index(b));
}
