// What the informer caches keep of each object: only the fields the operator reads. A pod or
// Job as the apiserver sends it carries managedFields, the whole pod spec, volumes, env and
// tolerations; with hundreds of trials those are most of the operator's memory.
//
// Readers of cached Pods and Jobs: trials/job-observation.ts (observeJob, podFailure),
// study/trial-lifecycle.ts (owner filter, pod name, Job finished/deleting), study/queued-trials.ts
// (Job uid and name), trials/prometheus-poller.ts (podIP), trials/metrics-tracker.ts (pod name),
// the study index (labels) and the informers themselves (name, namespace, resourceVersion).
// test/unit/operator/transforms.test.ts runs those readers on trimmed and full objects.
import type {
  KubernetesObject,
  V1ContainerState,
  V1ContainerStatus,
  V1Job,
  V1ObjectMeta,
  V1Pod,
} from '@kubernetes/client-node';

/** Drops keys whose value is undefined, so a trimmed object has no empty fields. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function trimMeta(m: V1ObjectMeta | undefined): V1ObjectMeta {
  return compact({
    name: m?.name,
    namespace: m?.namespace,
    uid: m?.uid,
    resourceVersion: m?.resourceVersion,
    generation: m?.generation,
    labels: m?.labels,
    ownerReferences: m?.ownerReferences?.map((r) => compact({ ...r })),
    creationTimestamp: m?.creationTimestamp,
    deletionTimestamp: m?.deletionTimestamp,
  });
}

function trimState(s: V1ContainerState | undefined): V1ContainerState | undefined {
  if (!s) return undefined;
  return compact({
    running: s.running && compact({ startedAt: s.running.startedAt }),
    terminated:
      s.terminated &&
      compact({
        exitCode: s.terminated.exitCode,
        reason: s.terminated.reason,
        message: s.terminated.message,
        startedAt: s.terminated.startedAt,
        finishedAt: s.terminated.finishedAt,
      }),
    waiting: s.waiting && compact({ reason: s.waiting.reason, message: s.waiting.message }),
  });
}

function trimContainerStatus(s: V1ContainerStatus): V1ContainerStatus {
  return compact({ name: s.name, state: trimState(s.state) }) as V1ContainerStatus;
}

export function trimPod(pod: V1Pod): V1Pod {
  const status = pod.status;
  return compact({
    metadata: trimMeta(pod.metadata),
    status:
      status &&
      compact({
        phase: status.phase,
        podIP: status.podIP,
        startTime: status.startTime,
        conditions: status.conditions?.map((c) =>
          compact({ type: c.type, status: c.status, reason: c.reason, message: c.message }),
        ),
        containerStatuses: status.containerStatuses?.map(trimContainerStatus),
      }),
  });
}

export function trimJob(job: V1Job): V1Job {
  const status = job.status;
  return compact({
    metadata: trimMeta(job.metadata),
    spec:
      job.spec &&
      compact({
        suspend: job.spec.suspend,
        completions: job.spec.completions,
        parallelism: job.spec.parallelism,
        completionMode: job.spec.completionMode,
        activeDeadlineSeconds: job.spec.activeDeadlineSeconds,
      }),
    status:
      status &&
      compact({
        startTime: status.startTime,
        conditions: status.conditions?.map((c) =>
          compact({
            type: c.type,
            status: c.status,
            reason: c.reason,
            message: c.message,
            lastTransitionTime: c.lastTransitionTime,
          }),
        ),
      }),
  }) as V1Job;
}

/**
 * Studies and Trials are read whole (spec, status, metadata): only what the apiserver adds for
 * its own bookkeeping is dropped.
 */
export function trimOwn<T extends KubernetesObject>(obj: T): T {
  if (!obj.metadata?.managedFields) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}
