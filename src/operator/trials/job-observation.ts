import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { KUEUE_QUEUE_LABEL } from '../../api/study.js';

export type JobObservation =
  /** Suspended: waiting for Kueue to admit it, or suspended again by a Kueue preemption. */
  | { phase: 'Queued' }
  | { phase: 'Pending'; since: Date; unschedulable?: string }
  /**
   * `startedAt`: when the trial's container started (not when the pod was accepted: a slow image
   * pull or process start is not running time). `finishedAt`: set once the pod has succeeded but
   * the Job has not yet said so; the trial ran until then, not until whenever it is looked at.
   */
  | { phase: 'Running'; pod: V1Pod; startedAt: Date; finishedAt?: Date }
  | { phase: 'Succeeded'; pod?: V1Pod }
  | { phase: 'Failed'; pod?: V1Pod; reason: string; message: string };

function condition(job: V1Job, type: string) {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

function newest(pods: V1Pod[]): V1Pod | undefined {
  return [...pods].sort(
    (a, b) =>
      new Date(b.metadata?.creationTimestamp ?? 0).getTime() -
      new Date(a.metadata?.creationTimestamp ?? 0).getTime(),
  )[0];
}

/** Why a pod failed, in the words a user would look for (exit code, OOMKilled, image pull). */
export function podFailure(pod: V1Pod | undefined): { reason: string; message: string } | undefined {
  if (!pod) return undefined;
  for (const s of pod.status?.containerStatuses ?? []) {
    const t = s.state?.terminated;
    if (t && t.exitCode !== 0) {
      const reason = t.reason === 'OOMKilled' ? 'OOMKilled' : 'ExitCode';
      return {
        reason,
        message: `container ${s.name} exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}${t.message ? `: ${t.message}` : ''}`,
      };
    }
    const w = s.state?.waiting;
    if (
      w &&
      /ImagePull|ErrImage|InvalidImageName|CreateContainerConfigError|CrashLoopBackOff/.test(w.reason ?? '')
    ) {
      return {
        reason: w.reason as string,
        message: `container ${s.name}: ${w.reason}${w.message ? `: ${w.message}` : ''}`,
      };
    }
  }
  return undefined;
}

/**
 * When the current attempt started waiting: its pod's creation; between a failed pod and the
 * Job's next one (retry back-off), the failed attempt's end; without any pod, the Job's creation.
 * A retry that runs long is not charged for the time earlier attempts ran.
 */
function pendingSince(job: V1Job, current: V1Pod | undefined): Date {
  if (current?.status?.phase === 'Failed') {
    const ended = (current.status.containerStatuses ?? [])
      .map((s) => s.state?.terminated?.finishedAt)
      .filter((t) => t !== undefined)
      .map((t) => new Date(t).getTime());
    if (ended.length > 0) return new Date(Math.max(...ended));
  }
  const created = current?.metadata?.creationTimestamp ?? job.metadata?.creationTimestamp;
  return created ? new Date(created) : new Date();
}

/**
 * When Kueue admitted (unsuspended) a queued Job: the Job controller resets startTime and flips
 * its Suspended condition to False then. Until it has written that status the admission has
 * only just happened, so `now`. Undefined for a Job that was never queued.
 */
function admittedAt(job: V1Job, now: Date): Date | undefined {
  const resumed = job.status?.conditions?.find((c) => c.type === 'Suspended' && c.status === 'False');
  const queued = job.metadata?.labels?.[KUEUE_QUEUE_LABEL] !== undefined || resumed !== undefined;
  if (!queued) return undefined;
  const times = [resumed?.lastTransitionTime, job.status?.startTime]
    .filter((t) => t !== undefined)
    .map((t) => new Date(t).getTime());
  return times.length > 0 ? new Date(Math.max(...times)) : now;
}

function runTimes(pod: V1Pod, container: string | undefined): { startedAt: Date; finishedAt?: Date } {
  const status = pod.status?.containerStatuses?.find((s) => s.name === container);
  const started = status?.state?.running?.startedAt ?? status?.state?.terminated?.startedAt;
  const finished = pod.status?.phase === 'Succeeded' ? status?.state?.terminated?.finishedAt : undefined;
  return {
    startedAt: new Date(started ?? pod.status?.startTime ?? Date.now()),
    ...(finished ? { finishedAt: new Date(finished) } : {}),
  };
}

/**
 * A Job of one pod at a time that needs one success (a trial's usual Job) has succeeded once its
 * pod has: nothing the Job controller does next can fail it, it only has to say so, which takes
 * it seconds when it is busy. A deadline could still fail it in that time, so a Job with one
 * waits for the verdict, as does every Job that needs more than its first pod.
 */
function succeedsWithOnePod(job: V1Job): boolean {
  const spec = job.spec;
  return (
    (spec?.completions ?? 1) === 1 &&
    (spec?.parallelism ?? 1) === 1 &&
    spec?.completionMode !== 'Indexed' &&
    spec?.activeDeadlineSeconds === undefined
  );
}

/**
 * Where a trial's Job stands, judged from the Job's conditions and its current pod; `container`
 * is the trial's primary container, whose run times count. A queued Job's pending time counts
 * from its admission, not from its creation: waiting in the queue is not being stuck.
 */
export function observeJob(
  job: V1Job,
  pods: V1Pod[],
  container?: string,
  now: Date = new Date(),
): JobObservation {
  const pod = pods.find((p) => p.status?.phase === 'Succeeded') ?? newest(pods);
  if (condition(job, 'Complete') || condition(job, 'SuccessCriteriaMet'))
    return { phase: 'Succeeded', ...(pod ? { pod } : {}) };
  const failed = condition(job, 'Failed') ?? condition(job, 'FailureTarget');
  if (failed) {
    const fromPod = podFailure(pod);
    return {
      phase: 'Failed',
      ...(pod ? { pod } : {}),
      reason: fromPod?.reason ?? failed.reason ?? 'JobFailed',
      message: fromPod?.message ?? failed.message ?? 'the Job failed',
    };
  }
  // Kueue suspends an admitted Job to preempt it; its pods are being stopped and do not count.
  if (job.spec?.suspend === true) return { phase: 'Queued' };
  if (pod?.status?.phase === 'Succeeded' && succeedsWithOnePod(job)) return { phase: 'Succeeded', pod };
  const current = newest(pods.filter((p) => p.status?.phase !== 'Failed')) ?? pod;
  const stuck = podFailure(current);
  if (stuck && current?.status?.phase === 'Pending') return { phase: 'Failed', pod: current, ...stuck };
  if (current?.status?.phase === 'Running' || current?.status?.phase === 'Succeeded') {
    return { phase: 'Running', pod: current, ...runTimes(current, container) };
  }
  const scheduled = current?.status?.conditions?.find((c) => c.type === 'PodScheduled');
  const admitted = admittedAt(job, now);
  const waiting = pendingSince(job, current);
  const since = admitted && admitted > waiting ? admitted : waiting;
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return { phase: 'Pending', since, unschedulable: scheduled.message ?? 'Unschedulable' };
  }
  return { phase: 'Pending', since };
}
