import type { V1Pod } from '@kubernetes/client-node';
import { compileCondition, type CelCondition } from '../../api/cel-condition.js';
import type { TrialTemplate } from '../../api/trial-template.js';
import {
  asList,
  asObj,
  builtinKind,
  COMPLETION_INDEX_LABEL,
  JOBSET_NAME_LABEL,
  sameType,
  TRAINJOB,
  workloadType,
} from '../../api/workload-kinds.js';
import { LABEL_TRIAL } from '../kube/resources.js';
import type { TrialWorkload } from './job-builder.js';
import { podFailure, type JobObservation } from './job-observation.js';

type Labels = Record<string, string>;

const matches = (pod: V1Pod, selector: Labels) =>
  Object.entries(selector).every(([k, v]) => pod.metadata?.labels?.[k] === v);

const created = (p: { metadata?: { creationTimestamp?: Date | string } }) =>
  new Date(p.metadata?.creationTimestamp ?? 0).getTime();

/** The pods of one trial's workload, among the study's. A TrainJob's come from its JobSet. */
export function trialPods(template: TrialTemplate, trial: string, pods: V1Pod[]): V1Pod[] {
  const label = sameType(workloadType(template), TRAINJOB) ? JOBSET_NAME_LABEL : LABEL_TRIAL;
  return pods.filter((p) => p.metadata?.labels?.[label] === trial);
}

/**
 * The pods whose logs or endpoint carry the metrics, newest first: those metrics.podSelector
 * matches; without it, the kind's leader (a JobSet's first replicated job, job 0, completion
 * index 0) or, for a Job or another kind, the pods of completion index 0 when it is an Indexed
 * Job, else all of them.
 */
export function metricsPods(
  template: TrialTemplate,
  trial: string,
  pods: V1Pod[],
  podSelector?: Labels,
): V1Pod[] {
  const type = workloadType(template);
  const selector = podSelector ?? builtinKind(type)?.leader(asObj(template.spec) ?? {}, trial) ?? {};
  let chosen = pods.filter((p) => matches(p, selector));
  if (
    podSelector === undefined &&
    chosen.some((p) => p.metadata?.labels?.[COMPLETION_INDEX_LABEL] !== undefined)
  )
    chosen = chosen.filter((p) => p.metadata?.labels?.[COMPLETION_INDEX_LABEL] === '0');
  return [...chosen].sort((a, b) => created(b) - created(a));
}

interface Conditions {
  success: CelCondition;
  failure: CelCondition;
}

/** Compiled once per parsed spec (the reconciler keeps one per Study generation). */
const compiled = new WeakMap<TrialTemplate, Conditions>();

function celConditions(template: TrialTemplate): Conditions | undefined {
  if (template.successCondition === undefined || template.failureCondition === undefined) return undefined;
  let c = compiled.get(template);
  if (!c) {
    c = {
      success: compileCondition(template.successCondition),
      failure: compileCondition(template.failureCondition),
    };
    compiled.set(template, c);
  }
  return c;
}

type Ended = { succeeded: true } | { succeeded: false; reason: string; message: string } | undefined;

function statusCondition(workload: TrialWorkload, types: string[]) {
  return asList(asObj(workload.status)?.['conditions'])
    .map((c) => asObj(c) ?? {})
    .find((c) => types.includes(c['type'] as string) && c['status'] === 'True');
}

/**
 * Whether the workload has ended: by successCondition/failureCondition when the template has
 * them, else by the built-in kind's status conditions. A condition that cannot be evaluated yet
 * (e.g. no status) has not held.
 */
function ended(template: TrialTemplate, workload: TrialWorkload): Ended {
  const cel = celConditions(template);
  if (cel) {
    if (cel.success.evaluate(workload) === true) return { succeeded: true };
    if (cel.failure.evaluate(workload) === true)
      return {
        succeeded: false,
        reason: 'FailureCondition',
        message: `failureCondition holds: ${cel.failure.source}`,
      };
    return undefined;
  }
  const kind = builtinKind(workloadType(template));
  if (!kind) return undefined;
  if (statusCondition(workload, kind.end.succeeded)) return { succeeded: true };
  const failed = statusCondition(workload, kind.end.failed);
  if (!failed) return undefined;
  return {
    succeeded: false,
    reason: (failed['reason'] as string | undefined) ?? `${kind.kind}Failed`,
    message: (failed['message'] as string | undefined) ?? `the ${kind.kind} failed`,
  };
}

/**
 * Where a trial whose workload is not a Job stands: ended by its conditions; else running once
 * its metrics pod runs; failed when one of its pods cannot start (image pull, bad config);
 * otherwise pending since the workload was created.
 */
export function observeWorkload(
  template: TrialTemplate,
  workload: TrialWorkload,
  pods: V1Pod[],
  metrics: V1Pod[],
  container: string | undefined,
): JobObservation {
  const pod = metrics.find((p) => p.status?.phase === 'Succeeded') ?? metrics[0];
  const end = ended(template, workload);
  if (end?.succeeded) return { phase: 'Succeeded', ...(pod ? { pod } : {}) };
  if (end) {
    const fromPod = pods.map(podFailure).find((f) => f !== undefined);
    return {
      phase: 'Failed',
      ...(pod ? { pod } : {}),
      ...(fromPod ?? { reason: end.reason, message: end.message }),
    };
  }
  const stuck = pods
    .filter((p) => p.status?.phase === 'Pending')
    .map((p) => ({ p, f: podFailure(p) }))
    .find((x) => x.f);
  if (stuck?.f) return { phase: 'Failed', pod: stuck.p, ...stuck.f };
  if (pod && (pod.status?.phase === 'Running' || pod.status?.phase === 'Succeeded')) {
    const status = pod.status.containerStatuses?.find((s) => s.name === container);
    const started = status?.state?.running?.startedAt ?? status?.state?.terminated?.startedAt;
    return { phase: 'Running', pod, startedAt: new Date(started ?? pod.status.startTime ?? Date.now()) };
  }
  const unschedulable = pods
    .flatMap((p) => p.status?.conditions ?? [])
    .find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
  const since = new Date(workload.metadata?.creationTimestamp ?? Date.now());
  return {
    phase: 'Pending',
    since,
    ...(unschedulable ? { unschedulable: unschedulable.message ?? 'Unschedulable' } : {}),
  };
}

/** Whether the workload has finished, one way or the other (a finished one is kept for its logs). */
export function hasEnded(template: TrialTemplate, workload: TrialWorkload): boolean {
  return ended(template, workload) !== undefined;
}
