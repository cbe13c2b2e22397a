import type { V1Condition, V1Job, V1OwnerReference } from '@kubernetes/client-node';
import { errorMessage } from '../runtime/kube-errors.js';

export const KUEUE_GROUP = 'kueue.x-k8s.io';
export const KUEUE_VERSION = 'v1beta2';

/** The fields of a Kueue Workload that say why it waits. */
export interface KueueWorkload {
  metadata: { name: string; ownerReferences?: V1OwnerReference[] };
  status?: { conditions?: V1Condition[] };
}

export interface QueueWait {
  reason: string;
  message: string;
}

/**
 * Why the queued Jobs of one reconcile wait, read from the Workloads Kueue keeps for them. The
 * namespace's Workloads are listed at most once per reconcile, and only if a trial is queued.
 * A Workload that cannot be read (Kueue not installed, no RBAC to list them) only makes the
 * reason less specific: it never fails the reconcile.
 */
export class QueueReasons {
  private workloads?: Promise<KueueWorkload[] | string>;

  constructor(private readonly list: () => Promise<KueueWorkload[]>) {}

  async of(job: V1Job): Promise<QueueWait> {
    this.workloads ??= this.list().catch((err: unknown) => errorMessage(err));
    const workloads = await this.workloads;
    if (typeof workloads === 'string')
      return {
        reason: 'Queued',
        message: `waiting for Kueue to admit Job ${job.metadata?.name} (its Workload could not be read: ${workloads})`,
      };
    const uid = job.metadata?.uid;
    const workload = workloads.find((w) => w.metadata.ownerReferences?.some((o) => o.uid === uid));
    return waitOf(workload, job.metadata?.name as string);
  }
}

function waitOf(workload: KueueWorkload | undefined, job: string): QueueWait {
  if (!workload)
    return { reason: 'Queued', message: `waiting for Kueue to create the Workload of Job ${job}` };
  const conditions = workload.status?.conditions ?? [];
  const quota = conditions.find((c) => c.type === 'QuotaReserved' && c.status === 'False');
  const evicted = conditions.find((c) => c.type === 'Evicted' && c.status === 'True');
  const why = quota ?? evicted;
  if (!why) return { reason: 'Queued', message: `Workload ${workload.metadata.name} waits for admission` };
  return { reason: why.reason, message: `Workload ${workload.metadata.name}: ${why.message}` };
}
