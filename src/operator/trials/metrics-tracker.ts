import { trackedMetrics } from '../../api/objectives.js';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { TrialStatus } from '../../api/trial.js';
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
  /** Called after new values are persisted, so the study is reconciled (pruning decisions). */
  onProgress(studyKey: string): void;
  onLogReconnect?(): void;
  /** Passed to each trial's collector (lines skipped for length count in an operator metric). */
  collectorHooks?: CollectorHooks;
  /** Minimum time between two status writes of one trial. */
  flushIntervalMs?: number;
}

interface Tracked {
  studyKey: string;
  /** The pod being followed: a Job that retries runs the trial again in a new pod. */
  pod: string;
  collector: MetricCollector;
  source: { stop(): void };
  timer?: NodeJS.Timeout;
  lastFlush: number;
  dirty: boolean;
}

/**
 * Live intermediate values of running trials, from pod logs or Prometheus, written to Trial
 * status in batches. Status is the record the reconciler decides from, so pruning survives an
 * operator restart; this tracker only keeps what is not yet written.
 */
export class TrialMetricsTracker {
  private readonly tracked = new Map<string, Tracked>();

  constructor(private readonly deps: MetricsTrackerDeps) {}

  /**
   * Follows a running trial's pod, once per pod. When the Job has retried the trial in a new
   * pod, the old attempt's source is stopped and the values start over with the new attempt.
   */
  ensure(study: ParsedStudy, trial: TrialObject, pod: V1Pod, container: string): void {
    const key = objectKey(trial);
    const podName = pod.metadata?.name as string;
    const current = this.tracked.get(key);
    if (current?.pod === podName) return;
    if (current) this.stopKey(key);
    const entry: Tracked = {
      studyKey: objectKey(study),
      pod: podName,
      collector: new MetricCollector(study.spec, this.deps.collectorHooks),
      source: { stop() {} },
      lastFlush: 0,
      dirty: false,
    };
    entry.source = this.startSource(study, trial, pod, container, entry, () => {
      entry.dirty = true;
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
    onPoint: () => void,
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
          if (collector.feedValues(values)) onPoint();
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
        if (collector.feedLine(line)) onPoint();
      },
      // The collector stays: its values are the fallback if the final log cannot be read.
      onGone: () => (entry.source = { stop() {} }),
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
    if (entry.timer) return;
    const interval = this.deps.flushIntervalMs ?? 1000;
    const wait = Math.max(0, entry.lastFlush + interval - Date.now());
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (!entry.dirty || this.tracked.get(key) !== entry) return;
      entry.dirty = false;
      entry.lastFlush = Date.now();
      const final = entry.collector.latest();
      this.deps
        .recordProgress(trial.metadata.namespace, trial.metadata.name, {
          intermediate: entry.collector.intermediate(),
          ...(Object.keys(final).length ? { metrics: final } : {}),
        })
        .then(
          () => this.deps.onProgress(entry.studyKey),
          (err: unknown) => {
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
            this.schedule(key, trial, entry);
          },
        );
    }, wait);
  }
}
