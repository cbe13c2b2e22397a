import {
  type Condition,
  PARETO_LISTED,
  type ParetoFront,
  type StudyPhase,
  type StudyStatus,
  type TrialCounts,
} from '../../api/study.js';
import type { TrialStatus } from '../../api/trial.js';
import type { ParetoTrialView, StudyOutcome } from '../../engine/study-engine.js';
import type { TrialView } from '../../engine/trial-view.js';
import { fitText, MAX_MESSAGE, MAX_REASON } from './text-limits.js';

export function countTrials(trials: readonly TrialView[]): TrialCounts {
  const n = (s: string) => trials.filter((t) => t.state === s).length;
  return {
    total: trials.length,
    pending: n('Pending'),
    queued: n('Queued'),
    running: n('Running'),
    succeeded: n('Succeeded'),
    failed: n('Failed'),
    pruned: n('Pruned'),
    metricsUnavailable: n('MetricsUnavailable'),
  };
}

/**
 * status.paretoFront: the front's size and at most PARETO_LISTED of its trials, so a study with
 * a huge front cannot outgrow its object. A longer front is thinned evenly along the first
 * objective, keeping both ends, so the listed trials still span the trade-off; listed by index.
 */
export function paretoFrontStatus(
  front: readonly ParetoTrialView[],
  trialOf: (index: number) => { name: string; parameters: Record<string, string> } | undefined,
): ParetoFront {
  let listed = [...front];
  if (listed.length > PARETO_LISTED) {
    const along = listed.sort(
      (a, b) => (a.values[0] as number) - (b.values[0] as number) || a.trial.index - b.trial.index,
    );
    listed = Array.from(
      { length: PARETO_LISTED },
      (_, k) => along[Math.round((k * (along.length - 1)) / (PARETO_LISTED - 1))] as ParetoTrialView,
    );
  }
  const trials = listed
    .sort((a, b) => a.trial.index - b.trial.index)
    .flatMap((p) => {
      const t = trialOf(p.trial.index);
      return t ? [{ name: t.name, index: p.trial.index, parameters: t.parameters, values: p.values }] : [];
    });
  return { size: front.length, trials };
}

const SECONDS_PER_HOUR = 3600;

/**
 * GPU-hours one trial used: its pod's GPU request times the time from status.startTime to
 * status.completionTime, or to `now` while it runs. A trial that never started used none.
 */
export function trialGpuHours(status: TrialStatus | undefined, gpus: number, now: Date): number {
  if (gpus === 0 || !status?.startTime) return 0;
  const start = Date.parse(status.startTime);
  const end = status.completionTime ? Date.parse(status.completionTime) : now.getTime();
  if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) return 0;
  return (gpus * (end - start)) / 1000 / SECONDS_PER_HOUR;
}

/**
 * status.usage.gpuHours: rounded to 0.0001 GPU-hours (0.36 GPU-seconds) so that a reconcile
 * while trials run rewrites the status only when the usage moved by at least that much.
 */
export function usageGpuHours(trials: readonly TrialView[]): number {
  return Math.round(trials.reduce((sum, t) => sum + (t.gpuHours ?? 0), 0) * 1e4) / 1e4;
}

/** Seconds since the study's status.startTime (0 before the first status write). */
export function studyElapsedSeconds(startTime: string | undefined, now: Date): number {
  const start = startTime ? Date.parse(startTime) : NaN;
  return Number.isFinite(start) ? Math.max(0, (now.getTime() - start) / 1000) : 0;
}

interface ConditionInput {
  type: string;
  status: Condition['status'];
  reason: string;
  message: string;
}

/**
 * Conditions keep their lastTransitionTime unless their status flips, as Kubernetes API
 * conventions ask, so a status write is skipped when nothing really changed. Reasons and
 * messages are cut to what the CRD accepts.
 */
export function mergeConditions(
  previous: Condition[] = [],
  next: ConditionInput[],
  now: string,
  generation?: number,
): Condition[] {
  return next.map((c) => {
    const old = previous.find((p) => p.type === c.type);
    const lastTransitionTime = old && old.status === c.status ? old.lastTransitionTime : now;
    return {
      ...c,
      reason: fitText(c.reason, MAX_REASON),
      message: fitText(c.message, MAX_MESSAGE),
      lastTransitionTime,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
  });
}

/** `previous` with one condition set (added, or replaced in place). */
export function withCondition(
  previous: Condition[] = [],
  condition: ConditionInput,
  now: string,
  generation?: number,
): Condition[] {
  const [merged] = mergeConditions(previous, [condition], now, generation) as [Condition];
  const at = previous.findIndex((c) => c.type === condition.type);
  return at < 0 ? [...previous, merged] : previous.map((c, i) => (i === at ? merged : c));
}

/** True while a problem that retrying cannot fix blocks the study; its reason says which. */
export function degradedCondition(problem: { reason: string; message: string } | undefined): ConditionInput {
  return problem
    ? { type: 'Degraded', status: 'True', reason: problem.reason, message: problem.message }
    : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' };
}

/**
 * The study's conditions. `lastFailure` (a failed trial's name, reason and message) is named
 * when too many trials failed, so the Study itself says what went wrong.
 */
export function studyConditions(
  phase: StudyPhase,
  outcome: StudyOutcome,
  counts: TrialCounts,
  lastFailure?: string,
): ConditionInput[] {
  const running = phase === 'Running' || phase === 'Pending';
  const progress = `${counts.total} trials: ${counts.running} running, ${counts.succeeded} succeeded, ${counts.failed + counts.metricsUnavailable} failed, ${counts.pruned} pruned`;
  return [
    {
      type: 'Running',
      status: running ? 'True' : 'False',
      reason: running ? 'TrialsRunning' : phase,
      message: progress,
    },
    {
      type: 'Succeeded',
      status: phase === 'Succeeded' ? 'True' : 'False',
      reason: outcome.done && outcome.succeeded ? outcome.reason : 'InProgress',
      message: outcome.done && outcome.succeeded ? outcome.message : '',
    },
    {
      type: 'Failed',
      status: phase === 'Failed' ? 'True' : 'False',
      reason: outcome.done && !outcome.succeeded ? outcome.reason : 'InProgress',
      message:
        outcome.done && !outcome.succeeded
          ? `${outcome.message}${outcome.reason === 'MaxFailedTrialsExceeded' && lastFailure ? `; last failure: ${lastFailure}` : ''}`
          : '',
    },
    {
      type: 'Suspended',
      status: phase === 'Suspended' ? 'True' : 'False',
      reason: phase === 'Suspended' ? 'SpecSuspend' : 'NotSuspended',
      message: '',
    },
  ];
}

export function studyPhase(
  outcome: StudyOutcome,
  suspended: boolean,
  trials: readonly TrialView[],
): StudyPhase {
  if (outcome.done) return outcome.succeeded ? 'Succeeded' : 'Failed';
  if (suspended) return 'Suspended';
  return trials.length === 0 ? 'Pending' : 'Running';
}

/** Status equality that ignores key order, to skip writes that would change nothing. */
export function sameStatus(a: StudyStatus | undefined, b: StudyStatus): boolean {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v as Record<string, unknown>)
              .filter(([, x]) => x !== undefined)
              .sort(([x], [y]) => x.localeCompare(y))
              .map(([k, x]) => [k, canon(x)]),
          )
        : v;
  return JSON.stringify(canon(a ?? {})) === JSON.stringify(canon(b));
}
