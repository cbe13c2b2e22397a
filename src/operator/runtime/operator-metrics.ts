// Metric names follow controller-runtime's so that existing dashboards and alerts for Go
// operators (reconcile rate/errors/latency, work queue depth and latency) work unchanged.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WorkQueueHooks } from './work-queue.js';

// controller-runtime's reconcile buckets, and client-go's workqueue buckets (1 µs … 10 s).
const reconcileBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5,
  1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
const workqueueBuckets = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10];

export type ReconcileResult = 'success' | 'error' | 'requeue';

export interface OperatorMetricSources {
  /** Read at each scrape for kubetune_event_loop_lag_seconds. */
  eventLoopLagSeconds?: () => number;
  /**
   * Read at each scrape for kubetune_gpu_share, by study key (namespace/name); set while a
   * fair-share ledger runs. A study the ledger has forgotten has no series.
   */
  gpuShares?: () => ReadonlyMap<string, { used: number; entitled: number }>;
}

export function createOperatorMetrics(
  registry: Registry = new Registry(),
  sources: OperatorMetricSources = {},
) {
  const r = [registry];
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    /** The scrape-time sources; the controllers set gpuShares for as long as their ledger lives. */
    sources,
    reconcileTotal: new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'] as const,
      registers: r,
    }),
    reconcileErrors: new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'] as const,
      registers: r,
    }),
    reconcileTime: new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'] as const,
      buckets: reconcileBuckets,
      registers: r,
    }),
    workqueueDepth: new Gauge({
      name: 'workqueue_depth',
      help: 'Current depth of workqueue',
      labelNames: ['name'] as const,
      registers: r,
    }),
    workqueueAdds: new Counter({
      name: 'workqueue_adds_total',
      help: 'Total number of adds handled by workqueue',
      labelNames: ['name'] as const,
      registers: r,
    }),
    workqueueQueueDuration: new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames: ['name'] as const,
      buckets: workqueueBuckets,
      registers: r,
    }),
    workqueueWorkDuration: new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes',
      labelNames: ['name'] as const,
      buckets: workqueueBuckets,
      registers: r,
    }),
    workqueueRetries: new Counter({
      name: 'workqueue_retries_total',
      help: 'Total number of retries handled by workqueue',
      labelNames: ['name'] as const,
      registers: r,
    }),
    trials: new Gauge({
      name: 'kubetune_trials',
      help: 'Trials per study and state',
      labelNames: ['namespace', 'study', 'state'] as const,
      registers: r,
    }),
    gpuSeconds: new Gauge({
      name: 'kubetune_gpu_seconds',
      help: 'GPU-seconds used per study: GPU request × running time summed over its trials, running ones up to the last reconcile (status.usage.gpuHours × 3600)',
      labelNames: ['namespace', 'study'] as const,
      registers: r,
    }),
    suggestionLatency: new Histogram({
      name: 'kubetune_suggestion_latency_seconds',
      help: 'Time to compute one suggestion, per algorithm',
      labelNames: ['algorithm'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    }),
    slotRefillLatency: new Histogram({
      name: 'kubetune_slot_refill_latency_seconds',
      help: 'Time from a trial finishing to the next trial being created in its slot',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    }),
    suggestionTimeouts: new Counter({
      name: 'kubetune_suggestion_timeouts_total',
      help: 'Suggestions that ran past their time budget and fell back to seeded random parameters, per algorithm',
      labelNames: ['algorithm'] as const,
      registers: r,
    }),
    pruneTimeouts: new Counter({
      name: 'kubetune_prune_timeouts_total',
      help: 'Pruning decisions that ran past their time budget (the trial kept running), per pruner',
      labelNames: ['pruner'] as const,
      registers: r,
    }),
    metricLinesSkipped: new Counter({
      name: 'kubetune_metric_lines_skipped_total',
      help: 'Trial output lines not parsed for metrics, per reason (too_long: over metrics.maxLineLength)',
      labelNames: ['reason'] as const,
      registers: r,
    }),
    logStreamReconnects: new Counter({
      name: 'kubetune_log_stream_reconnects_total',
      help: 'Times a followed trial log stream ended early and was reconnected',
      registers: r,
    }),
    informerRestarts: new Counter({
      name: 'kubetune_informer_restarts_total',
      help: 'Informer restarts after watch errors, failed lists or silence',
      labelNames: ['informer'] as const,
      registers: r,
    }),
    trialKindAvailable: new Gauge({
      name: 'kubetune_trial_kind_available',
      help: '1 once a configured trial kind (resource.group) has been listed, 0 while it cannot be (e.g. its CRD is not installed)',
      labelNames: ['kind'] as const,
      registers: r,
    }),
    leader: new Gauge({
      name: 'kubetune_leader',
      help: '1 while this replica holds the leader lease, else 0',
      registers: r,
    }),
    eventLoopLag: new Gauge({
      name: 'kubetune_event_loop_lag_seconds',
      help: 'Longest event-loop delay over the last 10 to 20 s; /healthz fails above --max-event-loop-lag-seconds',
      registers: r,
      collect() {
        if (sources.eventLoopLagSeconds) this.set(sources.eventLoopLagSeconds());
      },
    }),
    gpuShare: new Gauge({
      name: 'kubetune_gpu_share',
      help: 'With --max-gpus: GPUs a study holds (kind="used") and the GPUs weighted max-min fairness gives it over all --max-gpus for what it holds and wants (kind="entitled")',
      labelNames: ['namespace', 'study', 'kind'] as const,
      registers: r,
      collect() {
        // Rebuilt from the ledger at every scrape, so a forgotten study's series go with it.
        this.reset();
        for (const [key, share] of sources.gpuShares?.() ?? []) {
          const [namespace, study] = key.split('/') as [string, string];
          this.set({ namespace, study, kind: 'used' }, share.used);
          this.set({ namespace, study, kind: 'entitled' }, share.entitled);
        }
      },
    }),
  };
}

export type OperatorMetrics = ReturnType<typeof createOperatorMetrics>;

/** Hooks for `new WorkQueue({ name, hooks: workQueueMetricsHooks(metrics, name) })`. */
export function workQueueMetricsHooks(metrics: OperatorMetrics, name: string): WorkQueueHooks {
  const labels = { name };
  // Touch every series once so dashboards show zeros rather than "no data" before any work.
  metrics.workqueueDepth.set(labels, 0);
  metrics.workqueueAdds.inc(labels, 0);
  metrics.workqueueRetries.inc(labels, 0);
  return {
    onAdd: () => metrics.workqueueAdds.inc(labels),
    onDepth: (n) => metrics.workqueueDepth.set(labels, n),
    onQueueLatency: (s) => metrics.workqueueQueueDuration.observe(labels, s),
    onWorkDuration: (s) => metrics.workqueueWorkDuration.observe(labels, s),
    onRetry: () => metrics.workqueueRetries.inc(labels),
  };
}

/** Records one reconcile the way controller-runtime does (errors also count in errors_total). */
export function observeReconcile(
  metrics: OperatorMetrics,
  controller: string,
  result: ReconcileResult,
  seconds: number,
): void {
  metrics.reconcileTotal.inc({ controller, result });
  if (result === 'error') metrics.reconcileErrors.inc({ controller });
  metrics.reconcileTime.observe({ controller }, seconds);
}
