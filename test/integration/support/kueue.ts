// Kueue as the test cluster runs it (test/cluster/kueue.sh): it manages batch/v1 Jobs that carry
// the queue-name label. Helpers to create queues for one test and to read the Workload Kueue
// keeps for each Job, for tests of the cluster and of the operator's queueing alike.
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { V1Condition, V1OwnerReference } from '@kubernetes/client-node';
import { isNotFound, kubeconfigPath, uniqueName, type AfterHook, type Clients } from './cluster.js';

export const KUEUE_GROUP = 'kueue.x-k8s.io';
export const KUEUE_VERSION = 'v1beta2';
/** The label that puts a Job in a LocalQueue. */
export const QUEUE_LABEL = 'kueue.x-k8s.io/queue-name';
/** The label that gives a Job's Workload a WorkloadPriorityClass. */
export const PRIORITY_CLASS_LABEL = 'kueue.x-k8s.io/priority-class';

export type PreemptionPolicy = 'Never' | 'LowerPriority' | 'LowerOrNewerEqualPriority' | 'Any';

/** The fields of a Workload these tests read. */
export interface Workload {
  metadata: { name: string; namespace: string; ownerReferences?: V1OwnerReference[] };
  spec: { queueName?: string; priority?: number };
  status?: { conditions?: V1Condition[]; admission?: { clusterQueue: string } };
}

export interface Queues {
  flavor: string;
  clusterQueue: string;
  /** The LocalQueue's name, for the Job label QUEUE_LABEL. */
  localQueue: string;
}

export interface QueueOptions {
  /** Nominal quota per resource in the one flavor, e.g. { 'nvidia.com/gpu': '2' }. */
  quota: Record<string, string>;
  /** How a Workload may preempt others in its ClusterQueue (Kueue's default: Never). */
  withinClusterQueue?: PreemptionPolicy;
}

export function kueueApi(c: Clients): CustomObjectsApi {
  return c.kc.makeApiClient(CustomObjectsApi);
}

async function deleteClusterObject(api: CustomObjectsApi, plural: string, name: string): Promise<void> {
  try {
    await api.deleteClusterCustomObject({ group: KUEUE_GROUP, version: KUEUE_VERSION, plural, name });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/**
 * A ResourceFlavor, a ClusterQueue with `quota` that admits only from `namespace`, and a
 * LocalQueue there, all uniquely named. The cluster-scoped ones are deleted after the test
 * (Kueue's finalizers hold them until their Workloads are gone with the namespace).
 */
export async function createQueues(
  t: AfterHook,
  c: Clients,
  namespace: string,
  opts: QueueOptions,
): Promise<Queues> {
  const api = kueueApi(c);
  const flavor = uniqueName('flavor');
  const clusterQueue = uniqueName('cq');
  const localQueue = uniqueName('lq');
  const resources = Object.entries(opts.quota).map(([name, nominalQuota]) => ({ name, nominalQuota }));
  const cluster = (plural: string, body: object) =>
    api.createClusterCustomObject({ group: KUEUE_GROUP, version: KUEUE_VERSION, plural, body });

  await cluster('resourceflavors', {
    apiVersion: `${KUEUE_GROUP}/${KUEUE_VERSION}`,
    kind: 'ResourceFlavor',
    metadata: { name: flavor },
  }).catch((err: unknown) => {
    if (!isNotFound(err)) throw err;
    throw new Error(
      `the test cluster at ${kubeconfigPath} has no Kueue (${KUEUE_GROUP}/${KUEUE_VERSION} is not served): ` +
        'restart it with `npm run cluster:up`, which starts Kueue (test/cluster/README.md)',
    );
  });
  t.after(() => deleteClusterObject(api, 'resourceflavors', flavor));
  await cluster('clusterqueues', {
    apiVersion: `${KUEUE_GROUP}/${KUEUE_VERSION}`,
    kind: 'ClusterQueue',
    metadata: { name: clusterQueue },
    spec: {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
      resourceGroups: [{ coveredResources: Object.keys(opts.quota), flavors: [{ name: flavor, resources }] }],
      ...(opts.withinClusterQueue ? { preemption: { withinClusterQueue: opts.withinClusterQueue } } : {}),
    },
  });
  t.after(() => deleteClusterObject(api, 'clusterqueues', clusterQueue));
  await api.createNamespacedCustomObject({
    group: KUEUE_GROUP,
    version: KUEUE_VERSION,
    namespace,
    plural: 'localqueues',
    body: {
      apiVersion: `${KUEUE_GROUP}/${KUEUE_VERSION}`,
      kind: 'LocalQueue',
      metadata: { name: localQueue, namespace },
      spec: { clusterQueue },
    },
  });
  return { flavor, clusterQueue, localQueue };
}

/** A uniquely named WorkloadPriorityClass, deleted after the test. Returns its name. */
export async function createWorkloadPriorityClass(t: AfterHook, c: Clients, value: number): Promise<string> {
  const api = kueueApi(c);
  const name = uniqueName(`priority-${value}`);
  await api.createClusterCustomObject({
    group: KUEUE_GROUP,
    version: KUEUE_VERSION,
    plural: 'workloadpriorityclasses',
    body: {
      apiVersion: `${KUEUE_GROUP}/${KUEUE_VERSION}`,
      kind: 'WorkloadPriorityClass',
      metadata: { name },
      value,
    },
  });
  t.after(() => deleteClusterObject(api, 'workloadpriorityclasses', name));
  return name;
}

export async function listWorkloads(c: Clients, namespace: string): Promise<Workload[]> {
  const list = (await kueueApi(c).listNamespacedCustomObject({
    group: KUEUE_GROUP,
    version: KUEUE_VERSION,
    namespace,
    plural: 'workloads',
  })) as { items: Workload[] };
  return list.items;
}

/** The Workload Kueue created for a Job (it owns the Workload), or undefined before there is one. */
export async function workloadForJob(
  c: Clients,
  namespace: string,
  job: string,
): Promise<Workload | undefined> {
  const owned = (w: Workload) => w.metadata.ownerReferences?.some((o) => o.kind === 'Job' && o.name === job);
  return (await listWorkloads(c, namespace)).find(owned);
}

/** The Workload's condition of this type if its status is True. */
export function workloadCondition(w: Workload | undefined, type: string): V1Condition | undefined {
  return w?.status?.conditions?.find((cond) => cond.type === type && cond.status === 'True');
}

export function isAdmitted(w: Workload | undefined): boolean {
  return workloadCondition(w, 'Admitted') !== undefined;
}

/**
 * Why Kueue has not reserved quota for the Workload: its QuotaReserved condition while False
 * (reason `Pending` or `Inadmissible`, and a message such as which resource's quota is short),
 * or undefined if it holds quota or Kueue has not looked at it yet.
 */
export function pendingReason(w: Workload | undefined): { reason: string; message: string } | undefined {
  const cond = w?.status?.conditions?.find((c) => c.type === 'QuotaReserved');
  if (!cond || cond.status !== 'False') return undefined;
  return { reason: cond.reason, message: cond.message };
}
