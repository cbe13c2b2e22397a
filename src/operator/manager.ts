import { hostname } from 'node:os';
import type { KubernetesObject } from '@kubernetes/client-node';
import pino, { type Logger } from 'pino';
import { StudySpec } from '../api/study.js';
import { TERMINAL_TRIAL_STATES } from '../api/trial.js';
import { PooledAdvisor } from './compute/advisor.js';
import { createEventRecorder } from './events.js';
import { createInformers, type StudyInformers } from './informers.js';
import { loadKubeConfig, makeClients, type KubeClients } from './kube/clients.js';
import { objectKey, type StudyObject } from './kube/resources.js';
import { EventLoopLag } from './runtime/event-loop-lag.js';
import { startOperatorServer } from './runtime/http-server.js';
import { PrometheusAllowlist } from './runtime/prometheus-allowlist.js';
import { LeaderElector } from './runtime/leader-election.js';
import {
  createOperatorMetrics,
  observeReconcile,
  workQueueMetricsHooks,
} from './runtime/operator-metrics.js';
import { errorMessage } from './runtime/kube-errors.js';
import type { SupervisedInformer } from './runtime/supervised-informer.js';
import { WorkQueue } from './runtime/work-queue.js';
import { podPolicyRefusal } from './policy/check.js';
import type { TrialKind } from '../api/workload-kinds.js';
import type { PodPolicySettings } from './policy/rules.js';
import {
  announcedDemand,
  FairShareLedger,
  SlotLedger,
  shareProfile,
  trialGpus,
  type TrialLedger,
} from './study/slot-ledger.js';
import { StudyCache, studyIndexOf, type Expectations } from './study/study-cache.js';
import { KindAvailability } from './kind-availability.js';
import { countTrials } from './study/study-status.js';
import { StudyReconciler } from './study/study-reconciler.js';
import { TrialStore } from './study/trial-store.js';
import { isProgressOnly, watchStudies } from './study-triggers.js';
import { TrialMetricsTracker } from './trials/metrics-tracker.js';

export interface OperatorOptions {
  kubeconfig?: string;
  /** Namespaces to watch; empty means all. */
  namespaces: string[];
  metricsPort: number;
  metricsHost?: string;
  workers: number;
  leaderElection?: {
    namespace: string;
    name: string;
    identity?: string;
    leaseDurationMs?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
  };
  /** Worker threads for suggestions and pruning, and the time budget of each call. */
  compute?: { workers: number; suggestBudgetMs: number; pruneBudgetMs: number };
  /** Prometheus servers Studies may query (metrics.prometheus.url prefixes); empty disables query mode. */
  prometheusUrlAllowlist?: string[];
  /** Operator-wide cap on trials running at once, across all studies. */
  maxConcurrentTrials?: number;
  /** GPUs all trials together may request, divided among studies by priority and weight. */
  maxGPUs?: number;
  /** Kinds trials may be (the chart's RBAC grants exactly these); batch/v1 Job when unset. */
  trialKinds?: TrialKind[];
  /** What trial pods may ask for; Pod Security baseline and ServiceAccount "default" when unset. */
  podPolicy?: PodPolicySettings;
  resyncMs?: number;
  /** Limit on each API call; watches and log streams are exempt. Default 30 s. */
  requestTimeoutMs?: number;
  /** /healthz fails while the event loop has recently stalled for longer. Default 5 s. */
  maxEventLoopLagSeconds?: number;
  logger?: Logger;
  logLevel?: string;
}

const CONTROLLER = 'study';
export const DEFAULT_COMPUTE = { workers: 2, suggestBudgetMs: 5000, pruneBudgetMs: 2000 };

/**
 * Wires informers → work queue → study reconciler, behind leader election, with /metrics,
 * /healthz and /readyz. Returns when `signal` aborts (SIGTERM) or leadership is lost.
 */
export async function runOperator(opts: OperatorOptions, signal: AbortSignal): Promise<void> {
  const logger =
    opts.logger ?? pino({ level: opts.logLevel ?? 'info', base: { component: 'kubetune-operator' } });
  const kc = loadKubeConfig(opts.kubeconfig);
  const { requestTimeoutMs } = opts;
  const lag = new EventLoopLag();
  const maxLag = opts.maxEventLoopLagSeconds ?? 5;
  const metrics = createOperatorMetrics(undefined, { eventLoopLagSeconds: () => lag.seconds() });
  let ready = false;
  const server = await startOperatorServer({
    port: opts.metricsPort,
    host: opts.metricsHost ?? '0.0.0.0',
    registry: metrics.registry,
    isReady: () => ready,
    isHealthy: () => lag.verdict(maxLag),
    logger,
  });
  logger.info({ port: server.port }, 'serving /metrics, /healthz and /readyz');

  const lost = new AbortController();
  const stopAll = AbortSignal.any([signal, lost.signal]);
  try {
    if (opts.leaderElection) {
      const identity = opts.leaderElection.identity ?? `${hostname()}-${process.pid}`;
      const elector = new LeaderElector(makeClients(kc, { requestTimeoutMs }).coordination, {
        ...opts.leaderElection,
        identity,
        logger,
      });
      ready = true; // A standby replica is healthy; it just does not reconcile.
      let controllers: Promise<void> | undefined;
      const electing = elector.run({
        onStartedLeading: (leading: AbortSignal) => {
          metrics.leader.set(1);
          logger.info({ identity }, 'became leader');
          // This term's clients: once the lease is lost or overdue for renewal, nothing they send
          // reaches the apiserver, however far along a reconcile is.
          const fence = { signal: leading, writeBlocked: () => elector.writeBlocked() };
          controllers = runControllers(
            makeClients(kc, { requestTimeoutMs, fence }),
            opts,
            metrics,
            logger,
            AbortSignal.any([stopAll, leading]),
            () => {},
          );
        },
        onNewLeader: (leader: string) => logger.info({ identity, leader }, 'observed leader'),
        onStoppedLeading: () => {
          metrics.leader.set(0);
          logger.warn({ identity }, 'lost leadership; stopping');
          lost.abort();
        },
      });
      await new Promise<void>((resolve) =>
        stopAll.addEventListener('abort', () => resolve(), { once: true }),
      );
      await controllers;
      await elector.stop();
      await electing;
    } else {
      const clients = makeClients(kc, { requestTimeoutMs });
      await runControllers(clients, opts, metrics, logger, stopAll, (r) => (ready = r));
    }
  } finally {
    await server.close();
    lag.stop();
  }
  if (lost.signal.aborted && !signal.aborted) throw new Error('leadership lost');
}

async function runControllers(
  clients: KubeClients,
  opts: OperatorOptions,
  metrics: ReturnType<typeof createOperatorMetrics>,
  logger: Logger,
  signal: AbortSignal,
  setReady: (ready: boolean) => void,
): Promise<void> {
  const queue = new WorkQueue({ name: CONTROLLER, hooks: workQueueMetricsHooks(metrics, CONTROLLER) });
  const informers: StudyInformers = createInformers(
    clients,
    opts.namespaces,
    logger,
    undefined,
    opts.trialKinds,
  );
  const triggeredAt = new Map<string, number>();
  const enqueue = (key: string) => {
    if (!triggeredAt.has(key)) triggeredAt.set(key, Date.now());
    queue.add(key);
  };
  const stopResync = watchStudies(informers.studies, enqueue, opts.resyncMs ?? 60_000);
  const byLabel = (o: KubernetesObject) => {
    const key = studyIndexOf(o);
    if (key) enqueue(key);
  };
  const others: { on(ev: 'add' | 'update' | 'delete', cb: typeof byLabel): void }[] = [
    ...informers.jobs,
    ...informers.workloads,
    ...informers.pods,
  ];
  for (const inf of others) for (const ev of ['add', 'update', 'delete'] as const) inf.on(ev, byLabel);
  for (const inf of informers.trials) {
    inf.on('add', byLabel);
    inf.on('update', (trial, previous) => {
      if (!isProgressOnly(previous, trial)) byLabel(trial);
    });
    inf.on('delete', byLabel);
  }
  const own = [...informers.studies, ...informers.trials, ...informers.jobs, ...informers.pods];
  const all = [...own, ...informers.workloads];
  const kinds = new KindAvailability(informers.workloadKinds, logger, {
    setAvailable: (kind, up) => metrics.trialKindAvailable.set({ kind }, up ? 1 : 0),
    // The resync would get to them within a minute; they need not wait that long.
    onAvailable: () => {
      for (const s of informers.studies.flatMap((i) => i.list())) enqueue(objectKey(s));
    },
  });
  for (const inf of all) {
    inf.onRestart = (reason: string) => {
      metrics.informerRestarts.inc({ informer: inf.name });
      logger.warn({ informer: inf.name, reason }, 'informer restarted');
      kinds.informerFailed(inf);
    };
  }

  const cache = new StudyCache(informers);
  observeWrites(informers.studies, cache.studies);
  observeWrites(informers.trials, cache.trials);
  observeWrites(informers.jobs, cache.jobs);
  observeWrites(informers.workloads, cache.others);
  const store = new TrialStore(clients, cache);
  const tracker = new TrialMetricsTracker({
    kc: clients.kc,
    logger,
    recordProgress: (ns, name, values) => store.recordProgress(ns, name, values),
    onProgress: enqueue,
    onLogReconnect: () => metrics.logStreamReconnects.inc(),
    collectorHooks: { onSkippedLine: (reason) => metrics.metricLinesSkipped.inc({ reason }) },
    cachedPod: (namespace, name) => {
      for (const inf of informers.pods) {
        const pod = inf.get(name, namespace);
        if (pod) return pod;
      }
      return undefined;
    },
  });
  const slots = trialLedger(opts, enqueue);
  if (slots instanceof FairShareLedger) metrics.sources.gpuShares = () => slots.shares();
  // A study's demand counts from the moment it is seen, so a burst of new studies is shared fairly.
  const announce = (study: StudyObject) => {
    if (!slots?.announce) return;
    const spec = StudySpec.safeParse(study.spec);
    if (!spec.success) return;
    const key = objectKey(study);
    const states = informers.trials.flatMap((i) => i.indexed(key)).map((t) => t.status?.state);
    slots.announce(key, shareProfile(spec.data), announcedDemand(spec.data, study.status?.phase, states));
  };
  for (const inf of informers.studies) for (const ev of ['add', 'update'] as const) inf.on(ev, announce);
  const prometheusAllowlist = PrometheusAllowlist.parse(opts.prometheusUrlAllowlist ?? []);
  const events = createEventRecorder(clients.core, logger);
  const advisor = new PooledAdvisor({
    ...(opts.compute ?? DEFAULT_COMPUTE),
    events,
    logger,
    onSuggestionTimeout: (algorithm) => metrics.suggestionTimeouts.inc({ algorithm }),
    onPruneTimeout: (pruner) => metrics.pruneTimeouts.inc({ pruner }),
  });
  const reconciler = new StudyReconciler({
    clients,
    cache,
    tracker,
    events,
    advisor,
    ...(opts.trialKinds ? { trialKinds: opts.trialKinds } : {}),
    kindUnavailable: (kind) => kinds.unavailable(kind),
    policy: (spec) => podPolicyRefusal(spec.trialTemplate, opts.podPolicy) ?? prometheusAllowlist.check(spec),
    logger,
    hooks: {
      suggestionSeconds: (algorithm, s) => metrics.suggestionLatency.observe({ algorithm }, s),
      slotRefillSeconds: (s) => metrics.slotRefillLatency.observe(s),
      trialCounts: (namespace, study, counts) => {
        for (const [state, n] of Object.entries(counts))
          if (state !== 'total') metrics.trials.set({ namespace, study, state }, n);
      },
      gpuSeconds: (namespace, study, seconds) => metrics.gpuSeconds.set({ namespace, study }, seconds),
      studyGone: (namespace, study) => {
        for (const state of Object.keys(countTrials([]))) metrics.trials.remove({ namespace, study, state });
        metrics.gpuSeconds.remove({ namespace, study });
      },
    },
    ...(slots ? { slots } : {}),
  });

  // Ready once the operator's own kinds are listed; a missing trial kind holds up only its Studies.
  await Promise.all([...own.map((i) => i.start()), kinds.start()]);
  // Trials that were active before this start hold their slots before any worker plans more.
  if (slots) {
    const gpusOf = new Map<string, ReturnType<typeof trialGpus>>();
    for (const s of informers.studies.flatMap((i) => i.list())) {
      announce(s);
      const spec = StudySpec.safeParse(s.spec);
      if (spec.success) gpusOf.set(objectKey(s), trialGpus(s.metadata?.name ?? '', spec.data));
    }
    for (const t of informers.trials.flatMap((i) => i.list())) {
      const study = studyIndexOf(t);
      if (study && !TERMINAL_TRIAL_STATES.has(t.status?.state ?? 'Pending'))
        slots.hold(study, objectKey(t), gpusOf.get(study)?.(t));
    }
  }
  setReady(true);
  logger.info(
    { namespaces: opts.namespaces.length ? opts.namespaces : 'all', workers: opts.workers },
    'controllers started',
  );

  const work = queue.run(
    opts.workers,
    async (key: string) => {
      const [namespace, name] = key.split('/') as [string, string];
      const started = performance.now();
      const trigger = triggeredAt.get(key);
      triggeredAt.delete(key);
      const seconds = () => (performance.now() - started) / 1000;
      try {
        const result = await reconciler.reconcile(namespace, name, trigger);
        observeReconcile(
          metrics,
          CONTROLLER,
          result.requeueAfterMs !== undefined ? 'requeue' : 'success',
          seconds(),
        );
        return result.requeueAfterMs !== undefined ? { requeueAfterMs: result.requeueAfterMs } : undefined;
      } catch (err) {
        observeReconcile(metrics, CONTROLLER, 'error', seconds());
        logger.warn({ study: key, err: errorMessage(err) }, 'reconcile failed; retrying');
        throw err;
      }
    },
    signal,
  );
  await new Promise<void>((resolve) =>
    signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  stopResync();
  queue.shutDown({ drain: false });
  await work;
  tracker.stopAll();
  await advisor.close();
  await Promise.all(all.map((inf) => inf.stop()));
  delete metrics.sources.gpuShares;
  setReady(false);
  logger.info('controllers stopped');
}

/** Ends each expectation of the operator's writes once the informer has delivered them. */
function observeWrites<T extends KubernetesObject>(
  sources: SupervisedInformer<T>[],
  expectations: Expectations<T>,
): void {
  for (const inf of sources) {
    inf.on('add', (o) => expectations.observed(o));
    inf.on('update', (o) => expectations.observed(o));
    inf.on('delete', (o) => expectations.observedDeletion(o));
  }
}

/** The operator-wide cap: GPUs shared fairly when --max-gpus is set, else plain trial slots. */
function trialLedger(opts: OperatorOptions, enqueue: (studyKey: string) => void): TrialLedger | undefined {
  if (opts.maxGPUs)
    return new FairShareLedger(
      opts.maxConcurrentTrials !== undefined
        ? { gpus: opts.maxGPUs, trials: opts.maxConcurrentTrials }
        : { gpus: opts.maxGPUs },
      enqueue,
    );
  return opts.maxConcurrentTrials !== undefined
    ? new SlotLedger(opts.maxConcurrentTrials, enqueue)
    : undefined;
}
