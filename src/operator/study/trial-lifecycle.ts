import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  TERMINAL_TRIAL_STATES,
  type IntermediateValue,
  type TrialState,
  type TrialStatus,
} from '../../api/trial.js';
import type { PriorsStatus } from '../../api/warm-start.js';
import type { StudyEngine } from '../../engine/study-engine.js';
import { primaryContainer } from '../../engine/trial-template.js';
import type { TrialView } from '../../engine/trial-view.js';
import type { FinalResult } from '../../metrics/collector.js';
import type { Advisor } from '../compute/advisor.js';
import type { KubeClients } from '../kube/clients.js';
import { objectKey, type ParsedStudy, type TrialObject } from '../kube/resources.js';
import type { EventRecorder } from '../events.js';
import { errorMessage } from '../runtime/kube-errors.js';
import { finalFromLogs, finalFromStatus } from '../trials/final-metrics.js';
import { isJob, type TrialKind } from '../../api/workload-kinds.js';
import { buildTrialWorkload, type TrialWorkload } from '../trials/job-builder.js';
import { observeJob, type JobObservation } from '../trials/job-observation.js';
import { hasEnded, metricsPods, observeWorkload, trialPods } from '../trials/workload-observation.js';
import type { TrialMetricsTracker } from '../trials/metrics-tracker.js';
import { PruneJudge } from './prune-judge.js';
import type { QueueReasons } from './queued-trials.js';
import { httpStatus, isTransient, StudyProblem } from './reconcile-errors.js';
import type { TrialLedger } from './slot-ledger.js';
import { fitText, MAX_MESSAGE, MAX_REASON } from './text-limits.js';
import type { TrialStore } from './trial-store.js';

export interface TrialEntry {
  object: TrialObject;
  view: TrialView;
}

/** What one reconcile of a study knows and collects while it moves the study's trials along. */
export interface StudyPass {
  ps: ParsedStudy;
  engine: StudyEngine;
  entries: TrialEntry[];
  now: Date;
  log: Logger;
  requeueIn(ms: number): void;
  /** What the study's trials are (a configured trial kind). */
  kind: TrialKind;
  /** Why queued trials wait, from Kueue's Workloads (listed at most once per pass). */
  queue: QueueReasons;
  /** The first problem this pass met that retrying cannot fix; shown on the Study. */
  problem?: StudyProblem;
  /** What spec.priorStudies seeded the sampler with, for status.priors. */
  priors?: PriorsStatus;
}

export interface TrialLifecycleDeps {
  clients: KubeClients;
  store: TrialStore;
  tracker: TrialMetricsTracker;
  events: EventRecorder;
  slots?: TrialLedger;
  /** Pruning decisions, off the event loop when the operator passes its worker pool. */
  advisor: Advisor;
  now(): Date;
}

type Ending = Partial<TrialStatus> & { state: TrialState };

const FINAL_LOG_ATTEMPTS = 3;
const FINAL_LOG_RETRY_MS = 500;
/** How often a queued trial's reason is read again from its Workload (no watch on Workloads). */
const QUEUE_RECHECK_MS = 30_000;

/**
 * One trial's way from Pending to a terminal state, decided from its Job and pods as they are
 * now. Every decision is written to the Trial's status before its Job is touched, so a crash
 * between two steps is repaired by the next reconcile.
 */
export class TrialLifecycle {
  private readonly pruning = new PruneJudge();

  constructor(private readonly deps: TrialLifecycleDeps) {}

  /** Moves a trial along; true when it reached a terminal state in this call. */
  async advance(
    pass: StudyPass,
    entry: TrialEntry,
    workload: TrialWorkload | undefined,
    pods: V1Pod[],
  ): Promise<boolean> {
    if (TERMINAL_TRIAL_STATES.has(entry.view.state)) {
      await this.settleTerminal(pass, entry, workload);
      return false;
    }
    if (!workload || workload.metadata?.deletionTimestamp) return this.withoutJob(pass, entry, workload);
    let obs = observe(pass, entry.object.metadata.name, workload, pods);
    if (!('pod' in obs && obs.pod) && hasEnded(pass.ps.spec.trialTemplate, workload)) {
      // A finished workload had a pod; a pod cache that lags the workload cache must not cost the final log.
      const live = await this.deps.store.finishedJobPods(
        entry.object.metadata.namespace,
        entry.object.spec.study,
      );
      if (live) obs = observe(pass, entry.object.metadata.name, workload, live);
    }
    switch (obs.phase) {
      case 'Queued':
        return this.queued(pass, entry, workload as V1Job);
      case 'Pending':
        return this.pending(pass, entry, obs);
      case 'Running':
        return this.running(pass, entry, obs);
      case 'Succeeded':
        return this.succeeded(pass, entry, obs.pod);
      case 'Failed':
        await this.end(pass, entry, { state: 'Failed', reason: obs.reason, message: obs.message });
        return true;
    }
  }

  /**
   * Creates the trial's workload; true when the apiserver rejected it (quota, admission, an
   * invalid template) and the trial ended Failed/JobRejected, since retrying would be rejected again.
   */
  async createJob(pass: StudyPass, entry: TrialEntry): Promise<boolean> {
    const trial = entry.object;
    let created: boolean;
    try {
      created = await this.deps.store.createWorkload(buildTrialWorkload(pass.ps, trial), pass.kind);
    } catch (err) {
      if (httpStatus(err) === undefined || isTransient(err)) throw err;
      const message = `the apiserver rejected the trial's ${pass.kind.kind}: ${errorMessage(err)}`;
      await this.end(pass, entry, { state: 'Failed', reason: 'JobRejected', message });
      pass.problem ??= new StudyProblem('JobRejected', `trial ${trial.metadata.name}: ${message}`);
      return true;
    }
    if (created)
      pass.log.info(
        { trial: trial.metadata.name, kind: pass.kind.kind, params: trial.spec.parameters },
        'trial workload created',
      );
    // Recorded so that a Job that later disappears is known to have existed (see withoutJob).
    await this.patch(entry, { jobName: trial.metadata.name });
    return false;
  }

  /** Stops following trials that are no longer active, and forgets their pruning progress. */
  forget(trialKey: string): void {
    this.deps.tracker.stopKey(trialKey);
    this.pruning.forget(trialKey);
  }

  /** Records a terminal state first, then stops the workload: a crash in between leaves a terminal trial whose workload the next reconcile deletes. */
  async end(pass: StudyPass, entry: TrialEntry, status: Ending): Promise<void> {
    const trial = entry.object;
    const full: Partial<TrialStatus> = {
      ...status,
      ...(status.reason !== undefined ? { reason: fitText(status.reason, MAX_REASON) } : {}),
      ...(status.message !== undefined ? { message: fitText(status.message, MAX_MESSAGE) } : {}),
      completionTime: this.deps.now().toISOString(),
    };
    // Values seen since the tracker's last batched write are recorded with the ending.
    const live = status.intermediate ? undefined : this.deps.tracker.collector(trial)?.intermediate();
    if (live && live.length > entry.view.intermediate.length) full.intermediate = live;
    // Stopped first, so no value the tracker had not yet written lands after the terminal state.
    // The pruning progress is kept until the write succeeds: a decision that fails to be written
    // (409) is judged again.
    this.deps.tracker.stopKey(objectKey(trial));
    await this.patch(entry, full);
    this.forget(objectKey(trial));
    this.deps.slots?.release(objectKey(trial));
    entry.view = {
      ...entry.view,
      state: status.state,
      ...(status.state === 'Succeeded' && status.objective !== undefined ? { value: status.objective } : {}),
      ...(status.metrics !== undefined ? { metrics: status.metrics } : {}),
      intermediate: full.intermediate ?? entry.view.intermediate,
    };
    if (status.state === 'Succeeded') return;
    await this.deps.store.deleteWorkload(
      trial.metadata.namespace,
      trial.metadata.name,
      pass.kind,
      trial.spec.study,
    );
    const warn = status.state === 'Failed' || status.state === 'MetricsUnavailable';
    this.deps.events.emit(
      trial,
      warn ? 'Warning' : 'Normal',
      `Trial${status.state}`,
      `${status.reason ?? status.state}: ${status.message ?? ''}`,
    );
  }

  /**
   * A terminal trial's workload that still runs was being stopped when the operator crashed:
   * it is deleted now. A Succeeded trial's never is: its workload succeeded, even if its
   * controller has not said so yet (a one-pod Job ends with its pod, see observeJob).
   */
  private async settleTerminal(pass: StudyPass, entry: TrialEntry, workload: TrialWorkload | undefined) {
    this.forget(objectKey(entry.object));
    if (entry.view.state === 'Succeeded' || !workload || workload.metadata?.deletionTimestamp) return;
    if (!hasEnded(pass.ps.spec.trialTemplate, workload))
      await this.deps.store.deleteWorkload(
        entry.object.metadata.namespace,
        workload.metadata?.name as string,
        pass.kind,
        entry.object.spec.study,
      );
  }

  /**
   * A trial without a Job either has not started (create it) or lost the Job it had: deleted by
   * a user or by ttlSecondsAfterFinished. Re-running it silently would hide that and could run a
   * trial twice, so a lost Job ends the trial. A Job this operator created is in the Job list
   * even before the cache has it (an expectation); one the cache lacks for another reason (a
   * missed event, a previous operator's create) is confirmed gone by a live read first.
   */
  private async withoutJob(
    pass: StudyPass,
    entry: TrialEntry,
    workload: TrialWorkload | undefined,
  ): Promise<boolean> {
    if (!workload && !entry.object.status?.jobName) return this.createJob(pass, entry);
    const name = entry.object.status?.jobName ?? entry.object.metadata.name;
    const { namespace } = entry.object.metadata;
    if (!workload && !(await this.deps.store.workloadGone(namespace, name, pass.kind))) {
      // The cache will deliver it; its event reconciles the study again.
      pass.requeueIn(1000);
      return false;
    }
    await this.end(pass, entry, {
      state: 'Failed',
      reason: 'JobDeleted',
      message: `${pass.kind.kind} ${name} was deleted before the trial finished (by a user or its ttlSecondsAfterFinished); the trial is not run again`,
    });
    return true;
  }

  /**
   * A Job that Kueue has not admitted yet, or has suspended again to preempt it. A preempted
   * trial runs again with the same parameters once readmitted: one more attempt, whose values
   * start over (the new pod's curve, as after a Job retry), so the evicted attempt's values are
   * dropped. Waiting in the queue never times out: the pending clock starts at admission.
   */
  private async queued(pass: StudyPass, entry: TrialEntry, job: V1Job): Promise<boolean> {
    const status = entry.object.status;
    const preempted = entry.view.state === 'Running';
    const wait = await pass.queue.of(job);
    const reason = fitText(wait.reason, MAX_REASON);
    const message = fitText(wait.message, MAX_MESSAGE);
    const attempts = (status?.attempts ?? 1) + 1;
    if (preempted) this.deps.tracker.stopKey(objectKey(entry.object));
    if (entry.view.state !== 'Queued' || status?.reason !== reason || status.message !== message) {
      await this.patch(entry, {
        state: 'Queued',
        reason,
        message,
        jobName: entry.object.metadata.name,
        ...(preempted ? { attempts, intermediate: [] } : {}),
      });
      entry.view = { ...entry.view, state: 'Queued', ...(preempted ? { intermediate: [] } : {}) };
    }
    if (preempted) {
      const why = `Kueue preempted Job ${job.metadata?.name}; attempt ${attempts} runs the same parameters once the Job is admitted again`;
      pass.log.info({ trial: entry.object.metadata.name, attempts }, 'trial preempted by Kueue');
      this.deps.events.emit(entry.object, 'Normal', 'TrialPreempted', why);
    }
    pass.requeueIn(QUEUE_RECHECK_MS);
    return false;
  }

  private async pending(
    pass: StudyPass,
    entry: TrialEntry,
    obs: Extract<JobObservation, { phase: 'Pending' }>,
  ): Promise<boolean> {
    if (entry.view.state === 'Queued') {
      await this.patch(entry, {
        state: 'Pending',
        reason: 'Admitted',
        message: 'Kueue admitted the Job; waiting for its pod to run',
      });
      entry.view = { ...entry.view, state: 'Pending' };
    } else if (!entry.object.status?.jobName)
      await this.patch(entry, { jobName: entry.object.metadata.name });
    const timeout = pass.ps.spec.pendingTimeoutSeconds;
    const waited = pass.now.getTime() - obs.since.getTime();
    if (waited < timeout * 1000) {
      pass.requeueIn(timeout * 1000 - waited);
      return false;
    }
    await this.end(pass, entry, {
      state: 'Failed',
      reason: obs.unschedulable ? 'Unschedulable' : 'PendingTimeout',
      message: `not running after ${timeout}s${obs.unschedulable ? `: ${obs.unschedulable}` : ''}`,
    });
    return true;
  }

  private async running(
    pass: StudyPass,
    entry: TrialEntry,
    obs: Extract<JobObservation, { phase: 'Running' }>,
  ): Promise<boolean> {
    await this.markRunning(entry, obs);
    const container = primaryContainer(pass.ps.spec.trialTemplate).name;
    const index = entry.view.index;
    this.deps.tracker.ensure(pass.ps, entry.object, obs.pod, container, (after, upTo) =>
      pass.engine.judgesBetween(index, after, upTo),
    );
    const timeout = pass.ps.spec.trialTimeoutSeconds;
    if (timeout !== undefined) {
      const ran = (obs.finishedAt ?? pass.now).getTime() - obs.startedAt.getTime();
      if (ran >= timeout * 1000) {
        await this.end(pass, entry, {
          state: 'Failed',
          reason: 'Timeout',
          message: `ran longer than trialTimeoutSeconds (${timeout}s)`,
        });
        return true;
      }
      // A finished pod cannot run out of time; the Job's verdict brings the next reconcile.
      if (!obs.finishedAt) pass.requeueIn(timeout * 1000 - ran);
    }
    return this.judge(pass, entry);
  }

  /**
   * Records that the trial runs, and in which pod. When the Job retried it in a new pod, the
   * values recorded for the failed attempt are dropped: the new attempt starts over.
   */
  private async markRunning(entry: TrialEntry, obs: Extract<JobObservation, { phase: 'Running' }>) {
    const status = entry.object.status;
    const podName = obs.pod.metadata?.name as string;
    if (entry.view.state === 'Running' && status?.podName === podName) return;
    const retried = status?.podName !== undefined && status.podName !== podName;
    await this.patch(entry, {
      state: 'Running',
      startTime: status?.startTime ?? obs.startedAt.toISOString(),
      podName,
      jobName: entry.object.metadata.name,
      ...(retried ? { intermediate: [] } : {}),
    });
    entry.view = { ...entry.view, state: 'Running', ...(retried ? { intermediate: [] } : {}) };
  }

  private async judge(pass: StudyPass, entry: TrialEntry): Promise<boolean> {
    const decision = await this.pruning.judge(
      (trial, peers) => this.deps.advisor.prune(pass.ps, pass.engine, trial, peers),
      objectKey(entry.object),
      entry.object.status?.podName ?? '',
      entry.view,
      pass.entries.map((e) => e.view),
    );
    if (!decision.prune) return false;
    await this.end(pass, entry, {
      state: 'Pruned',
      reason: 'Pruned',
      message: decision.reason,
      prunedAtStep: decision.step,
    });
    return true;
  }

  private async succeeded(pass: StudyPass, entry: TrialEntry, pod: V1Pod | undefined): Promise<boolean> {
    const { result, intermediate } = await this.finalValues(pass, entry.object, pod);
    const curve = intermediate ? { intermediate } : {};
    if (result.ok) {
      await this.end(pass, entry, {
        state: 'Succeeded',
        objective: result.objective,
        metrics: result.metrics,
        ...curve,
      });
    } else {
      await this.end(pass, entry, {
        state: result.reason === 'MetricsUnavailable' ? 'MetricsUnavailable' : 'Failed',
        reason: result.reason,
        message: result.message,
        ...curve,
      });
    }
    return true;
  }

  /**
   * From the finished pod's whole log when it can be read, else from what was seen live. Only a
   * log that is gone for good (404/410) falls back; a transient failure is retried a few times
   * and then fails the reconcile, which is retried with backoff: it must never turn a finished
   * trial into MetricsUnavailable.
   */
  private async finalValues(
    pass: StudyPass,
    trial: TrialObject,
    pod: V1Pod | undefined,
  ): Promise<{ result: FinalResult; intermediate?: IntermediateValue[] }> {
    const { spec } = pass.ps;
    const live = this.deps.tracker.collector(trial);
    const fromLive = () => ({ result: live ? live.final() : finalFromStatus(spec, trial.status) });
    if (spec.metrics.source === 'prometheus' || !pod?.metadata?.name) return fromLive();
    for (let attempt = 1; ; attempt++) {
      try {
        return await finalFromLogs(
          this.deps.clients.kc,
          spec,
          trial.metadata.namespace,
          pod.metadata.name,
          primaryContainer(spec.trialTemplate).name,
        );
      } catch (err) {
        const gone = httpStatus(err) === 404 || httpStatus(err) === 410;
        if (!gone && isTransient(err)) {
          if (attempt >= FINAL_LOG_ATTEMPTS) throw err;
          await sleep(FINAL_LOG_RETRY_MS * attempt);
          continue;
        }
        pass.log.warn(
          { trial: trial.metadata.name, err: errorMessage(err) },
          'the final log cannot be read; using values seen live',
        );
        return fromLive();
      }
    }
  }

  /**
   * Every write is conditional on the Trial being as it was read (resourceVersion): a decision
   * taken from a stale view fails with 409, and the reconcile reads again and decides again.
   */
  private async patch(entry: TrialEntry, status: Partial<TrialStatus>): Promise<void> {
    const { metadata } = entry.object;
    // A new Trial has no status yet, and a status must have a state.
    const full = { state: entry.object.status?.state ?? entry.view.state, ...status };
    entry.object = await this.deps.store.patchTrialStatus(
      metadata.namespace,
      metadata.name,
      full,
      metadata.resourceVersion,
    );
  }
}

/**
 * Where the trial's workload stands. A Job is judged by the Job controller's conditions and its
 * own pods (those it owns, narrowed by metrics.podSelector); any other kind by its conditions
 * and the pods labelled with the trial.
 */
function observe(pass: StudyPass, trial: string, workload: TrialWorkload, pods: V1Pod[]): JobObservation {
  const template = pass.ps.spec.trialTemplate;
  const container = primaryContainer(template).name;
  const selector = pass.ps.spec.metrics.podSelector;
  if (isJob(pass.kind)) {
    const uid = workload.metadata?.uid;
    const owned = pods.filter((p) => p.metadata?.ownerReferences?.some((r) => r.uid === uid));
    return observeJob(workload as V1Job, metricsPods(template, trial, owned, selector), container, pass.now);
  }
  const mine = trialPods(template, trial, pods);
  return observeWorkload(template, workload, mine, metricsPods(template, trial, mine, selector), container);
}
