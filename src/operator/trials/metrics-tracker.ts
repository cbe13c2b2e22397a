import { trackedMetrics } from '../../api/objectives.js';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { IntermediateValue, TrialStatus } from '../../api/trial.js';
import { type CollectorHooks, MetricCollector } from '../../metrics/collector.js';
import { isNotFound, statusCode } from '../runtime/kube-errors.js';
import { objectKey, type ParsedStudy, type TrialObject } from '../kube/resources.js';
import { LogFollower } from './log-follower.js';
import { PrometheusPoller } from './prometheus-poller.js';

export interface MetricsTrackerDeps {
  kc: KubeConfig;
  logger: Logger;
  /** Writes the latest values of a trial that is still Running (422 once it is not). */
  recordProgress(
    namespace: string,
    name: string,
    values: Pick<TrialStatus, 'intermediate' | 'metrics'>,
  ): Promise<void>;
  /**
   * Called after values that reach a step the pruner judges are persisted, so the study is
   * reconciled for its decision. Other values need no reconcile: nothing can be decided on them.
   */
  onProgress(studyKey: string): void;
  onLogReconnect?(): void;
  /** Passed to each trial's collector (lines skipped for length count in an operator metric). */
  collectorHooks?: CollectorHooks;
  /** Minimum time between two status writes of one trial; default TRIAL_FLUSH_INTERVAL_MS. */
  flushIntervalMs?: number;
  /**
   * The pod as the informer last saw it: a log follower learns from it that its container has
   * exited without waiting for the study's next reconcile, which can be seconds away under load.
   */
  cachedPod?(namespace: string, name: string): V1Pod | undefined;
}

/**
 * How long a running trial's new values may wait to be written: each write is a PATCH of the
 * whole curve, so with hundreds of trials reporting every second, writing each value costs the
 * apiserver (and etcd) far more than the pruning decisions need. Values that reach a step the
 * pruner judges are written at once.
 */
export const TRIAL_FLUSH_INTERVAL_MS = 3000;

/** Whether a report moving the trial from step `after` to `upTo` reaches a step its pruner judges. */
export type JudgedBetween = (after: number, upTo: number) => boolean;

interface Tracked {
  studyKey: string;
  /** The pod being followed: a Job that retries runs the trial again in a new pod. */
  pod: string;
  collector: MetricCollector;
  source: { stop(): void };
  timer?: NodeJS.Timeout;
  lastFlush: number;
  dirty: boolean;
  /** Holds a value the pruner judges: written without waiting for the interval. */
  urgent: boolean;
  /** Holds a value the pruner judges that no successful write has carried yet. */
  undecided: boolean;
  /** A write is on its way; the next one waits for it, so writes never overtake each other. */
  inFlight: boolean;
  lastStep: number;
  judged: JudgedBetween;
  /** The pod's trial container has exited: its log source need not be reopened. */
  containerEnded: boolean;
}

/**
 * Live intermediate values of running trials, from pod logs or Prometheus, written to Trial
 * status in batches: at most one write per trial per flush interval, except that a value
 * reaching a step the pruner judges is written at once (with whatever else is pending). Status
 * is the record the reconciler decides from, so pruning survives an operator restart; this
 * tracker only keeps what is not yet written. The reconciler judges every step a write brings
 * (PruneJudge), so a batch never skips a rung.
 */
export class TrialMetricsTracker {
  private readonly tracked = new Map<string, Tracked>();

  constructor(private readonly deps: MetricsTrackerDeps) {}

  /**
   * Follows a running trial's pod, once per pod. When the Job has retried the trial in a new
   * pod, the old attempt's source is stopped and the values start over with the new attempt.
   * `judged` says which new values must not wait (none without it). Called again with the same
   * pod as it changes: once its container has exited, its log is not reopened.
   */
  ensure(
    study: ParsedStudy,
    trial: TrialObject,
    pod: V1Pod,
    container: string,
    judged: JudgedBetween = () => false,
  ): void {
    const key = objectKey(trial);
    const podName = pod.metadata?.name as string;
    const current = this.tracked.get(key);
    if (current?.pod === podName) {
      current.containerEnded ||= hasExited(pod, container);
      return;
    }
    if (current) this.stopKey(key);
    const entry: Tracked = {
      studyKey: objectKey(study),
      pod: podName,
      collector: new MetricCollector(study.spec, this.deps.collectorHooks),
      source: { stop() {} },
      // The first values wait an interval too: a short trial may need no write until it ends.
      lastFlush: Date.now(),
      dirty: false,
      urgent: false,
      undecided: false,
      inFlight: false,
      lastStep: -Infinity,
      judged,
      containerEnded: hasExited(pod, container),
    };
    entry.source = this.startSource(study, trial, pod, container, entry, (point) => {
      entry.dirty = true;
      if (entry.judged(entry.lastStep, point.step)) entry.urgent = entry.undecided = true;
      entry.lastStep = Math.max(entry.lastStep, point.step);
      this.schedule(key, trial, entry);
    });
    this.tracked.set(key, entry);
  }

  /** The trial's values come from its pod's log, or from Prometheus when the study says so. */
  private startSource(
    study: ParsedStudy,
    trial: TrialObject,
    pod: V1Pod,
    container: string,
    entry: Tracked,
    onPoint: (point: IntermediateValue) => void,
  ): { stop(): void } {
    const { collector } = entry;
    const metrics = study.spec.metrics;
    if (metrics.source === 'prometheus' && metrics.prometheus) {
      return new PrometheusPoller({
        spec: metrics.prometheus,
        tracked: trackedMetrics(study.spec),
        stepKeys: metrics.stepKeys,
        pod,
        trial: { name: trial.metadata.name, namespace: trial.metadata.namespace, study: study.metadata.name },
        logger: this.deps.logger,
        onValues: (values) => {
          const point = collector.feedValues(values);
          if (point) onPoint(point);
        },
      });
    }
    return new LogFollower({
      kc: this.deps.kc,
      namespace: trial.metadata.namespace,
      pod: entry.pod,
      container,
      logger: this.deps.logger,
      onLine: (line) => {
        const point = collector.feedLine(line);
        if (point) onPoint(point);
      },
      // The collector stays: its values are the fallback if the final log cannot be read.
      onGone: () => (entry.source = { stop() {} }),
      containerEnded: () => {
        const cached = this.deps.cachedPod?.(trial.metadata.namespace, entry.pod);
        entry.containerEnded ||= cached !== undefined && hasExited(cached, container);
        return entry.containerEnded;
      },
      ...(this.deps.onLogReconnect ? { onReconnect: this.deps.onLogReconnect } : {}),
    });
  }

  /** What the live source has seen so far (used when the final log can no longer be read). */
  collector(trial: TrialObject): MetricCollector | undefined {
    return this.tracked.get(objectKey(trial))?.collector;
  }

  stop(trial: TrialObject): void {
    this.stopKey(objectKey(trial));
  }

  stopAll(): void {
    for (const key of [...this.tracked.keys()]) this.stopKey(key);
  }

  /** Trials of a study that are tracked; the reconciler stops those it no longer considers running. */
  trackedKeys(studyKey: string): string[] {
    return [...this.tracked].filter(([, e]) => e.studyKey === studyKey).map(([k]) => k);
  }

  stopKey(key: string): void {
    const entry = this.tracked.get(key);
    if (!entry) return;
    entry.source.stop();
    clearTimeout(entry.timer);
    this.tracked.delete(key);
  }

  private schedule(key: string, trial: TrialObject, entry: Tracked): void {
    // The write in flight schedules the next one when it is answered.
    if (entry.inFlight) return;
    if (entry.timer && !entry.urgent) return;
    clearTimeout(entry.timer);
    const interval = this.deps.flushIntervalMs ?? TRIAL_FLUSH_INTERVAL_MS;
    // Urgent still goes through a timer: the rest of a burst of lines joins the same write.
    const wait = entry.urgent ? 0 : Math.max(0, entry.lastFlush + interval - Date.now());
    entry.timer = setTimeout(() => this.flush(key, trial, entry), wait);
  }

  private flush(key: string, trial: TrialObject, entry: Tracked): void {
    entry.timer = undefined;
    if (!entry.dirty || this.tracked.get(key) !== entry) return;
    const judged = entry.undecided;
    entry.dirty = entry.urgent = entry.undecided = false;
    entry.inFlight = true;
    entry.lastFlush = Date.now();
    const final = entry.collector.latest();
    this.deps
      .recordProgress(trial.metadata.namespace, trial.metadata.name, {
        intermediate: entry.collector.intermediate(),
        ...(Object.keys(final).length ? { metrics: final } : {}),
      })
      .then(
        () => {
          entry.inFlight = false;
          if (judged) this.deps.onProgress(entry.studyKey);
          if (entry.dirty) this.schedule(key, trial, entry);
        },
        (err: unknown) => {
          entry.inFlight = false;
          if (isNotFound(err) || statusCode(err) === 422) {
            // The Trial was deleted, or has ended: nothing is left to record.
            if (this.tracked.get(key) === entry) this.stopKey(key);
            return;
          }
          this.deps.logger.warn(
            { err: (err as Error).message, trial: key },
            'could not record intermediate values',
          );
          entry.dirty = true;
          entry.undecided ||= judged;
          this.schedule(key, trial, entry);
        },
      );
  }
}

function hasExited(pod: V1Pod, container: string): boolean {
  return pod.status?.containerStatuses?.some((s) => s.name === container && s.state?.terminated) ?? false;
}
