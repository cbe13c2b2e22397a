import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WorkQueue } from './work-queue.js';

/** Metric names follow controller-runtime's, so existing dashboards and alerts apply. */
export function createOperatorMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry });
  const r = [registry];
  return {
    registry,
    reconcileTotal: new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Reconciles by result',
      labelNames: ['controller', 'result'],
      registers: r,
    }),
    reconcileErrors: new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Reconciles that failed',
      labelNames: ['controller'],
      registers: r,
    }),
    reconcileTime: new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Time per reconcile',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    }),
    queueDepth: new Gauge({
      name: 'workqueue_depth',
      help: 'Keys waiting in the work queue',
      labelNames: ['name'],
      registers: r,
    }),
    queueAdds: new Counter({
      name: 'workqueue_adds_total',
      help: 'Keys added to the work queue',
      labelNames: ['name'],
      registers: r,
    }),
    queueLatency: new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'Time a key waits before processing',
      labelNames: ['name'],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: r,
    }),
    workDuration: new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'Time processing a key',
      labelNames: ['name'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
      registers: r,
    }),
    queueRetries: new Counter({
      name: 'workqueue_retries_total',
      help: 'Keys retried after a failure',
      labelNames: ['name'],
      registers: r,
    }),
    trials: new Gauge({
      name: 'kubetune_trials',
      help: 'Trials by state',
      labelNames: ['namespace', 'study', 'state'],
      registers: r,
    }),
    suggestionLatency: new Histogram({
      name: 'kubetune_suggestion_latency_seconds',
      help: 'Time the sampler took to propose a batch',
      labelNames: ['algorithm'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: r,
    }),
    slotRefillLatency: new Histogram({
      name: 'kubetune_slot_refill_latency_seconds',
      help: 'From the event that freed a trial slot to the next Job',
      buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: r,
    }),
    logStreamReconnects: new Counter({
      name: 'kubetune_log_stream_reconnects_total',
      help: 'Pod log streams resumed after ending',
      registers: r,
    }),
    informerRestarts: new Counter({
      name: 'kubetune_informer_restarts_total',
      help: 'Informers restarted after an error or silence',
      labelNames: ['informer'],
      registers: r,
    }),
    leader: new Gauge({
      name: 'kubetune_leader',
      help: '1 while this replica holds the leader lease',
      registers: r,
    }),
  };
}

export type OperatorMetrics = ReturnType<typeof createOperatorMetrics>;

export function instrumentQueue(queue: WorkQueue, m: OperatorMetrics, name: string): void {
  queue.hooks = {
    onAdd: () => m.queueAdds.inc({ name }),
    onDepth: (d) => m.queueDepth.set({ name }, d),
    onQueueLatency: (s) => m.queueLatency.observe({ name }, s),
    onWorkDuration: (s) => m.workDuration.observe({ name }, s),
    onRetry: () => m.queueRetries.inc({ name }),
  };
}
