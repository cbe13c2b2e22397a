import type { V1Job } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Assignment } from '../../api/parameter.js';
import { StudySpec, API_GROUP_VERSION, type StudyStatus } from '../../api/study.js';
import { TERMINAL_TRIAL_STATES, type TrialState } from '../../api/trial.js';
import { formatZodError } from '../../api/errors.js';
import { SettingsError } from '../../engine/sampler.js';
import { StudyEngine } from '../../engine/study-engine.js';
import { trialName } from '../../engine/trial-template.js';
import type { TrialView } from '../../engine/trial-view.js';
import type { KubeClients } from '../kube/clients.js';
import { objectKey, type ParsedStudy, type StudyObject, type TrialObject } from '../kube/resources.js';
import type { EventRecorder } from '../events.js';
import { ownerReference, trialLabels } from '../trials/job-builder.js';
import type { TrialMetricsTracker } from '../trials/metrics-tracker.js';
import type { SlotLedger } from './slot-ledger.js';
import { countTrials, mergeConditions, sameStatus, studyConditions, studyPhase } from './study-status.js';
import { TrialLifecycle, type StudyPass, type TrialEntry } from './trial-lifecycle.js';
import { TrialStore } from './trial-store.js';

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
  /** The operator-wide cap on active trials across all studies. */
  slots?: SlotLedger;
  now?(): Date;
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

const stateOf = (t: TrialObject): TrialState => t.status?.state ?? 'Pending';

/**
 * Drives one Study towards its goal. Level-triggered and idempotent: every decision is derived
 * from the objects as they are now (see TrialLifecycle for one trial's way to its end).
 */
export class StudyReconciler {
  private readonly store: TrialStore;
  private readonly trials: TrialLifecycle;
  private readonly engines = new Map<string, { generation: number; engine: StudyEngine }>();

  constructor(private readonly deps: ReconcilerDeps) {
    this.store = new TrialStore(deps.clients);
    this.trials = new TrialLifecycle({
      clients: deps.clients,
      store: this.store,
      tracker: deps.tracker,
      events: deps.events,
      ...(deps.slots ? { slots: deps.slots } : {}),
      now: () => this.now(),
    });
  }

  forget(key: string): void {
    this.engines.delete(key);
    for (const trial of this.deps.tracker.trackedKeys(key)) this.trials.forget(trial);
    this.deps.slots?.forgetStudy(key);
  }

  async reconcile(namespace: string, name: string, triggeredAt?: number): Promise<ReconcileResult> {
    const study = await this.store.getStudy(namespace, name);
    if (!study || study.metadata.deletionTimestamp) {
      this.forget(`${namespace}/${name}`);
      return {};
    }
    const parsed = this.parse(study);
    if (!parsed.ok) {
      await this.reportInvalid(study, parsed.message);
      return {};
    }
    const ps = { ...study, spec: parsed.engine.spec as StudySpec } as ParsedStudy;
    return this.drive(ps, parsed.engine, triggeredAt);
  }

  /** One pass over the study: advance its trials, start or stop trials, write its status. */
  private async drive(ps: ParsedStudy, engine: StudyEngine, triggeredAt?: number): Promise<ReconcileResult> {
    const { namespace, name } = ps.metadata;
    const [trialObjects, jobs, pods] = await Promise.all([
      this.store.listTrials(namespace, name),
      this.store.listJobs(namespace, name),
      this.store.listPods(namespace, name),
    ]);
    let requeueAfterMs: number | undefined;
    const pass: StudyPass = {
      ps,
      engine,
      entries: trialObjects
        .map((o) => ({ object: o, view: this.view(engine, o) }))
        .sort((a, b) => a.view.index - b.view.index),
      now: this.now(),
      log: this.deps.logger.child({ study: `${namespace}/${name}` }),
      requeueIn: (ms) => (requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, Math.max(50, ms))),
    };
    this.syncActive(objectKey(ps), pass.entries);
    const jobsByName = new Map<string, V1Job>(jobs.map((j) => [j.metadata?.name as string, j]));
    let freed = 0;
    for (const entry of [...pass.entries]) {
      if (entry.object.metadata.deletionTimestamp) continue;
      if (await this.trials.advance(pass, entry, jobsByName.get(entry.object.metadata.name), pods)) freed++;
    }
    const outcome = engine.outcome(pass.entries.map((e) => e.view));
    if (outcome.done) await this.stopActive(pass, `the study finished: ${outcome.message}`);
    else await this.startTrials(pass, freed > 0 ? triggeredAt : undefined);
    await this.writeStatus(pass);
    return requeueAfterMs === undefined ? {} : { requeueAfterMs };
  }

  /**
   * Trials that are no longer active (ended, or deleted from under the study) are no longer
   * followed and no longer hold a slot of the operator-wide cap.
   */
  private syncActive(studyKey: string, entries: TrialEntry[]): void {
    const active = new Set(
      entries
        .filter((e) => !TERMINAL_TRIAL_STATES.has(e.view.state) && !e.object.metadata.deletionTimestamp)
        .map((e) => objectKey(e.object)),
    );
    for (const key of this.deps.tracker.trackedKeys(studyKey)) if (!active.has(key)) this.trials.forget(key);
    this.deps.slots?.sync(studyKey, active);
  }

  private async stopActive(pass: StudyPass, message: string): Promise<void> {
    for (const entry of pass.entries.filter((e) => !TERMINAL_TRIAL_STATES.has(e.view.state)))
      await this.trials.end(entry, { state: 'Pruned', reason: 'StudyFinished', message });
  }

  /** Plans and creates trials for the free slots, each holding a slot of the operator-wide cap. */
  private async startTrials(pass: StudyPass, refillTriggeredAt: number | undefined): Promise<void> {
    const studyKey = objectKey(pass.ps);
    const views = pass.entries.map((e) => e.view);
    const free = pass.engine.freeSlots(views);
    const wanted = this.deps.slots ? this.deps.slots.available(studyKey, free) : free;
    if (wanted === 0) return;
    const planStart = performance.now();
    const planned = await pass.engine.plan(views, wanted);
    if (planned.length === 0) return;
    this.deps.hooks?.suggestionSeconds?.(pass.ps.spec.algorithm.name, (performance.now() - planStart) / 1000);
    for (const p of planned) {
      const trialKey = `${pass.ps.metadata.namespace}/${trialName(pass.ps.metadata.name, p.index)}`;
      if (this.deps.slots && !this.deps.slots.reserve(studyKey, trialKey)) break;
      let entry: TrialEntry;
      try {
        entry = await this.createTrial(pass, p.index, p.params);
      } catch (err) {
        this.deps.slots?.release(trialKey);
        throw err;
      }
      pass.entries.push(entry);
      await this.trials.createJob(pass, entry);
    }
    if (refillTriggeredAt !== undefined)
      this.deps.hooks?.slotRefillSeconds?.((Date.now() - refillTriggeredAt) / 1000);
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

  private async createTrial(pass: StudyPass, index: number, params: Assignment): Promise<TrialEntry> {
    const { ps, engine } = pass;
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
    if (!created) pass.log.info({ trial: name }, 'adopted a trial created before a restart');
    return { object: trial, view: this.view(engine, trial) };
  }

  private async writeStatus(pass: StudyPass): Promise<void> {
    const { ps, engine, entries } = pass;
    const views = entries.map((e) => e.view);
    const outcome = engine.outcome(views);
    const counts = countTrials(views);
    const phase = studyPhase(outcome, ps.spec.suspend, views);
    const best = engine.best(views);
    const bestEntry = best && entries.find((e) => e.view.index === best.trial.index);
    const previous = ps.status;
    const stamp = pass.now.toISOString().replace(/\.\d+Z$/, 'Z');
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
