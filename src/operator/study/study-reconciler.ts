import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Assignment } from '../../api/parameter.js';
import { StudySpec, API_GROUP_VERSION, type StudyStatus } from '../../api/study.js';
import { TERMINAL_TRIAL_STATES, type TrialState, type TrialStatus } from '../../api/trial.js';
import { formatZodError } from '../../api/errors.js';
import { SettingsError } from '../../engine/sampler.js';
import { StudyEngine } from '../../engine/study-engine.js';
import { primaryContainer, trialName } from '../../engine/trial-template.js';
import type { TrialView } from '../../engine/trial-view.js';
import type { FinalResult } from '../../metrics/collector.js';
import type { KubeClients } from '../kube/clients.js';
import { objectKey, type ParsedStudy, type StudyObject, type TrialObject } from '../kube/resources.js';
import type { EventRecorder } from '../events.js';
import { errorMessage } from '../runtime/kube-errors.js';
import { LogRequestError } from '../kube/pod-logs.js';
import { finalFromLogs, finalFromStatus } from '../trials/final-metrics.js';
import { buildTrialJob, ownerReference, trialLabels } from '../trials/job-builder.js';
import { observeJob, type JobObservation } from '../trials/job-observation.js';
import type { TrialMetricsTracker } from '../trials/metrics-tracker.js';
import { countTrials, mergeConditions, sameStatus, studyConditions, studyPhase } from './study-status.js';
import { TrialStore } from './trial-store.js';

/** How long after its container ended a trial's final log read is retried before giving up. */
const FINAL_LOG_RETRY_MS = 2 * 60_000;

export interface ReconcilerHooks {
  suggestionSeconds?(algorithm: string, seconds: number): void;
  /** Seconds from the event that freed a slot to the creation of the Job that refilled it. */
  slotRefillSeconds?(seconds: number): void;
  trialCounts?(namespace: string, study: string, counts: Record<string, number>): void;
}

export interface ReconcilerDeps {
  clients: KubeClients;
  tracker: TrialMetricsTracker;
  events: EventRecorder;
  logger: Logger;
  hooks?: ReconcilerHooks;
  /** Trials that may still start across all studies (the operator-wide cap). */
  globalFreeSlots?(): number;
  now?(): Date;
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

interface TrialEntry {
  object: TrialObject;
  view: TrialView;
}

const stateOf = (t: TrialObject): TrialState => t.status?.state ?? 'Pending';

/**
 * Drives one Study towards its goal. Level-triggered and idempotent: every decision is derived
 * from the objects as they are now, and every decision is written to a Trial's status before
 * any Job is touched, so a crash between two steps is repaired by the next reconcile.
 */
export class StudyReconciler {
  private readonly store: TrialStore;
  private readonly engines = new Map<string, { generation: number; engine: StudyEngine }>();
  /** Last step each running trial was judged at: pruners judge a new report once, not every reconcile. */
  private readonly judgedStep = new Map<string, number>();

  constructor(private readonly deps: ReconcilerDeps) {
    this.store = new TrialStore(deps.clients);
  }

  forget(key: string): void {
    this.engines.delete(key);
  }

  async reconcile(namespace: string, name: string, triggeredAt?: number): Promise<ReconcileResult> {
    const log = this.deps.logger.child({ study: `${namespace}/${name}` });
    const study = await this.store.getStudy(namespace, name);
    if (!study || study.metadata.deletionTimestamp) {
      for (const key of this.deps.tracker.trackedKeys(`${namespace}/${name}`)) this.deps.tracker.stopKey(key);
      this.forget(`${namespace}/${name}`);
      return {};
    }
    const parsed = this.parse(study);
    if (!parsed.ok) {
      await this.reportInvalid(study, parsed.message);
      return {};
    }
    const { engine } = parsed;
    const ps = { ...study, spec: engine.spec as StudySpec } as ParsedStudy;
    const now = this.now();

    const [trialObjects, jobs, pods] = await Promise.all([
      this.store.listTrials(namespace, name),
      this.store.listJobs(namespace, name),
      this.store.listPods(namespace, name),
    ]);
    const entries = trialObjects
      .map((o) => ({ object: o, view: this.view(engine, o) }))
      .sort((a, b) => a.view.index - b.view.index);
    const jobsByName = new Map(jobs.map((j) => [j.metadata?.name as string, j]));
    let requeueAfterMs: number | undefined;
    const requeueIn = (ms: number) =>
      (requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, Math.max(50, ms)));
    let freed = 0;

    for (const entry of entries) {
      const job = jobsByName.get(entry.object.metadata.name);
      if (TERMINAL_TRIAL_STATES.has(entry.view.state)) {
        this.deps.tracker.stop(entry.object);
        if (job && !isFinished(job)) await this.store.deleteJob(namespace, job.metadata?.name as string);
        continue;
      }
      if (!job) {
        await this.createJob(ps, entry.object, log);
        continue;
      }
      const jobPods = pods.filter((p) =>
        p.metadata?.ownerReferences?.some((r) => r.uid === job.metadata?.uid),
      );
      const obs = observeJob(job, jobPods);
      const ended = await this.advance(ps, engine, entry, obs, entries, now, requeueIn, log);
      if (ended) freed++;
    }

    const views = entries.map((e) => e.view);
    const outcome = engine.outcome(views);
    if (outcome.done) {
      for (const entry of entries.filter((e) => !TERMINAL_TRIAL_STATES.has(e.view.state))) {
        await this.end(
          entry,
          { state: 'Pruned', reason: 'StudyFinished', message: `the study finished: ${outcome.message}` },
          namespace,
        );
      }
    } else {
      const planStart = performance.now();
      const wanted = Math.min(engine.freeSlots(views), this.deps.globalFreeSlots?.() ?? Infinity);
      const planned = wanted > 0 ? await engine.plan(views, wanted) : [];
      if (planned.length > 0) {
        this.deps.hooks?.suggestionSeconds?.(ps.spec.algorithm.name, (performance.now() - planStart) / 1000);
        for (const p of planned) {
          const entry = await this.createTrial(ps, engine, p.index, p.params);
          entries.push(entry);
          await this.createJob(ps, entry.object, log);
        }
        if (triggeredAt !== undefined && freed > 0)
          this.deps.hooks?.slotRefillSeconds?.((Date.now() - triggeredAt) / 1000);
      }
    }

    await this.writeStatus(ps, engine, entries, now);
    return requeueAfterMs === undefined ? {} : { requeueAfterMs };
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  private parse(study: StudyObject): { ok: true; engine: StudyEngine } | { ok: false; message: string } {
    const key = objectKey(study);
    const generation = study.metadata.generation ?? 0;
    const cached = this.engines.get(key);
    if (cached && cached.generation === generation) return { ok: true, engine: cached.engine };
    const result = StudySpec.safeParse(study.spec, { reportInput: true });
    if (!result.success) {
      return {
        ok: false,
        message: formatZodError(result.error, ['spec'])
          .map((e) => `${e.path}: ${e.message}`)
          .join('; '),
      };
    }
    try {
      const engine = new StudyEngine(result.data);
      this.engines.set(key, { generation, engine });
      return { ok: true, engine };
    } catch (err) {
      if (err instanceof SettingsError) return { ok: false, message: `spec.${err.message}` };
      throw err;
    }
  }

  private view(engine: StudyEngine, o: TrialObject): TrialView {
    let params: Assignment;
    try {
      params = engine.space.parse(o.spec.parameters);
    } catch {
      // The spec's parameters changed after this trial ran; keep it in the count with what it had.
      params = Object.fromEntries(
        Object.entries(o.spec.parameters).map(([k, v]) => [k, Number.isFinite(Number(v)) ? Number(v) : v]),
      );
    }
    const state = stateOf(o);
    return {
      index: o.spec.index,
      params,
      state,
      ...(state === 'Succeeded' && o.status?.objective !== undefined ? { value: o.status.objective } : {}),
      intermediate: o.status?.intermediate ?? [],
    };
  }

  /** Moves a non-terminal trial along; returns true when it reached a terminal state. */
  private async advance(
    ps: ParsedStudy,
    engine: StudyEngine,
    entry: TrialEntry,
    obs: JobObservation,
    entries: TrialEntry[],
    now: Date,
    requeueIn: (ms: number) => void,
    log: Logger,
  ): Promise<boolean> {
    const { spec } = ps;
    const ns = ps.metadata.namespace;
    const trial = entry.object;
    const container = primaryContainer(spec.trialTemplate).name;
    switch (obs.phase) {
      case 'Pending': {
        const waited = now.getTime() - obs.since.getTime();
        const limit = spec.pendingTimeoutSeconds * 1000;
        if (waited >= limit) {
          await this.end(
            entry,
            {
              state: 'Failed',
              reason: obs.unschedulable ? 'Unschedulable' : 'PendingTimeout',
              message: `not running after ${spec.pendingTimeoutSeconds}s${obs.unschedulable ? `: ${obs.unschedulable}` : ''}`,
            },
            ns,
          );
          return true;
        }
        requeueIn(limit - waited);
        return false;
      }
      case 'Running': {
        if (entry.view.state !== 'Running') {
          const patch: Partial<TrialStatus> = {
            state: 'Running',
            startTime: obs.startedAt.toISOString(),
            podName: obs.pod.metadata?.name as string,
            jobName: trial.metadata.name,
          };
          await this.store.patchTrialStatus(ns, trial.metadata.name, patch);
          trial.status = { ...(trial.status ?? { state: 'Running' }), ...patch } as TrialStatus;
          entry.view = { ...entry.view, state: 'Running' };
        }
        this.deps.tracker.ensure(ps, trial, obs.pod, container);
        if (spec.trialTimeoutSeconds !== undefined) {
          const ran = now.getTime() - obs.startedAt.getTime();
          const limit = spec.trialTimeoutSeconds * 1000;
          if (ran >= limit) {
            await this.end(
              entry,
              {
                state: 'Failed',
                reason: 'Timeout',
                message: `ran longer than trialTimeoutSeconds (${spec.trialTimeoutSeconds}s)`,
              },
              ns,
            );
            return true;
          }
          requeueIn(limit - ran);
        }
        const lastStep = entry.view.intermediate.at(-1)?.step;
        const uid = trial.metadata.uid ?? trial.metadata.name;
        if (lastStep === undefined || this.judgedStep.get(uid) === lastStep) return false;
        this.judgedStep.set(uid, lastStep);
        const decision = engine.prune(
          entry.view,
          entries.map((e) => e.view),
        );
        if (decision.prune) {
          await this.end(
            entry,
            { state: 'Pruned', reason: 'Pruned', message: decision.reason, prunedAtStep: decision.step },
            ns,
          );
          return true;
        }
        return false;
      }
      case 'Succeeded': {
        const result = await this.finalValues(ps, trial, obs.pod, container, log);
        if (result.ok) {
          await this.end(
            entry,
            { state: 'Succeeded', objective: result.objective, metrics: result.metrics },
            ns,
          );
        } else {
          await this.end(
            entry,
            {
              state: result.reason === 'MetricsUnavailable' ? 'MetricsUnavailable' : 'Failed',
              reason: result.reason,
              message: result.message,
            },
            ns,
          );
        }
        return true;
      }
      case 'Failed':
        await this.end(entry, { state: 'Failed', reason: obs.reason, message: obs.message }, ns);
        return true;
    }
  }

  private async finalValues(
    ps: ParsedStudy,
    trial: TrialObject,
    pod: V1Pod | undefined,
    container: string,
    log: Logger,
  ): Promise<FinalResult> {
    const live = this.deps.tracker.collector(trial);
    if (ps.spec.metrics.source === 'prometheus')
      return live ? live.final() : finalFromStatus(ps.spec, trial.status);
    if (pod?.metadata?.name) {
      try {
        return await finalFromLogs(
          this.deps.clients.kc,
          ps.spec,
          trial.metadata.namespace,
          pod.metadata.name,
          container,
        );
      } catch (err) {
        // A transient failure must not decide the trial: retry on a later reconcile until the log
        // is gone for good or the container ended long ago (the pod listed may predate its end).
        const gone = err instanceof LogRequestError && (err.status === 404 || err.status === 410);
        const ended = pod.status?.containerStatuses?.find((c) => c.name === container)?.state?.terminated;
        const since = ended?.finishedAt ? this.now().getTime() - new Date(ended.finishedAt).getTime() : 0;
        if (!gone && since < FINAL_LOG_RETRY_MS) throw err;
        log.warn(
          { trial: trial.metadata.name, err: errorMessage(err) },
          'could not read the final log; using values seen live',
        );
      }
    }
    return live ? live.final() : finalFromStatus(ps.spec, trial.status);
  }

  /** Records a terminal state first, then stops the Job: a crash in between leaves a terminal trial whose Job the next reconcile deletes. */
  private async end(
    entry: TrialEntry,
    status: Partial<TrialStatus> & { state: TrialState },
    namespace: string,
  ): Promise<void> {
    const trial = entry.object;
    const full: Partial<TrialStatus> = { ...status, completionTime: this.now().toISOString() };
    if (status.state !== 'Succeeded' && entry.view.intermediate.length === 0) {
      const live = this.deps.tracker.collector(trial);
      if (live) full.intermediate = live.intermediate();
    }
    await this.store.patchTrialStatus(namespace, trial.metadata.name, full);
    this.deps.tracker.stop(trial);
    this.judgedStep.delete(trial.metadata.uid ?? trial.metadata.name);
    trial.status = { ...(trial.status ?? {}), ...full } as TrialStatus;
    entry.view = {
      ...entry.view,
      state: status.state,
      ...(status.state === 'Succeeded' && status.objective !== undefined ? { value: status.objective } : {}),
      intermediate: full.intermediate ?? entry.view.intermediate,
    };
    if (status.state !== 'Succeeded') {
      await this.store.deleteJob(namespace, trial.metadata.name);
      const warn = status.state === 'Failed' || status.state === 'MetricsUnavailable';
      this.deps.events.emit(
        trial,
        warn ? 'Warning' : 'Normal',
        `Trial${status.state}`,
        `${status.reason ?? status.state}: ${status.message ?? ''}`,
      );
    }
  }

  private async createTrial(
    ps: ParsedStudy,
    engine: StudyEngine,
    index: number,
    params: Assignment,
  ): Promise<TrialEntry> {
    const name = trialName(ps.metadata.name, index);
    const body: TrialObject = {
      apiVersion: API_GROUP_VERSION,
      kind: 'Trial',
      metadata: {
        name,
        namespace: ps.metadata.namespace,
        labels: trialLabels(ps.metadata.name, name, index),
        ownerReferences: [ownerReference(ps)],
      },
      spec: { study: ps.metadata.name, index, parameters: engine.space.format(params) },
    };
    const { trial, created } = await this.store.createTrial(body);
    if (!created) this.deps.logger.info({ trial: name }, 'adopted a trial created before a restart');
    return { object: trial, view: this.view(engine, trial) };
  }

  private async createJob(ps: ParsedStudy, trial: TrialObject, log: Logger): Promise<void> {
    const created = await this.store.createJob(buildTrialJob(ps, trial));
    if (created) log.info({ trial: trial.metadata.name, params: trial.spec.parameters }, 'trial job created');
  }

  private async writeStatus(
    ps: ParsedStudy,
    engine: StudyEngine,
    entries: TrialEntry[],
    now: Date,
  ): Promise<void> {
    const views = entries.map((e) => e.view);
    const outcome = engine.outcome(views);
    const counts = countTrials(views);
    const phase = studyPhase(outcome, ps.spec.suspend, views);
    const best = engine.best(views);
    const bestEntry = best && entries.find((e) => e.view.index === best.trial.index);
    const previous = ps.status;
    const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
    const status: StudyStatus = {
      phase,
      observedGeneration: ps.metadata.generation ?? 0,
      conditions: mergeConditions(
        previous?.conditions,
        studyConditions(phase, outcome, counts),
        stamp,
        ps.metadata.generation,
      ),
      trials: counts,
      ...(bestEntry && best
        ? {
            bestTrial: {
              name: bestEntry.object.metadata.name,
              index: best.trial.index,
              parameters: bestEntry.object.spec.parameters,
              value: best.value,
              ...(bestEntry.object.status?.metrics ? { metrics: bestEntry.object.status.metrics } : {}),
            },
          }
        : {}),
      startTime: previous?.startTime ?? stamp,
      ...(outcome.done ? { completionTime: previous?.completionTime ?? stamp } : {}),
    };
    this.deps.hooks?.trialCounts?.(ps.metadata.namespace, ps.metadata.name, counts);
    if (sameStatus(previous, status)) return;
    await this.store.patchStudyStatus(ps.metadata.namespace, ps.metadata.name, status);
    if (previous?.phase !== phase && (phase === 'Succeeded' || phase === 'Failed')) {
      const message = outcome.done ? outcome.message : phase;
      this.deps.events.emit(ps, phase === 'Succeeded' ? 'Normal' : 'Warning', `Study${phase}`, message);
    }
  }

  private async reportInvalid(study: StudyObject, message: string): Promise<void> {
    const stamp = this.now()
      .toISOString()
      .replace(/\.\d+Z$/, 'Z');
    const status: StudyStatus = {
      ...(study.status ?? {}),
      phase: 'Failed',
      observedGeneration: study.metadata.generation ?? 0,
      conditions: mergeConditions(
        study.status?.conditions,
        [
          { type: 'Running', status: 'False', reason: 'InvalidSpec', message },
          { type: 'Failed', status: 'True', reason: 'InvalidSpec', message },
        ],
        stamp,
        study.metadata.generation,
      ),
    };
    if (sameStatus(study.status, status)) return;
    await this.store.patchStudyStatus(study.metadata.namespace, study.metadata.name, status);
    this.deps.events.emit(study, 'Warning', 'InvalidSpec', message);
  }
}

function isFinished(job: V1Job): boolean {
  return (job.status?.conditions ?? []).some(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}
