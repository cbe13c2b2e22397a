import type { Logger } from 'pino';
import type { Assignment } from '../../api/parameter.js';
import { StudySpec, API_GROUP_VERSION } from '../../api/study.js';
import { TERMINAL_TRIAL_STATES, type TrialState } from '../../api/trial.js';
import { formatZodError } from '../../api/errors.js';
import { SettingsError } from '../../engine/sampler.js';
import { StudyEngine, type PlannedTrial, type StudyOutcome } from '../../engine/study-engine.js';
import { trialName } from '../../engine/trial-template.js';
import {
  DEFAULT_TRIAL_KINDS,
  sameType,
  unconfiguredKindMessage,
  workloadType,
  type TrialKind,
} from '../../api/workload-kinds.js';
import type { TrialView } from '../../engine/trial-view.js';
import { inlineAdvisor, type Advisor } from '../compute/advisor.js';
import type { KubeClients } from '../kube/clients.js';
import { objectKey, type ParsedStudy, type StudyObject, type TrialObject } from '../kube/resources.js';
import type { EventRecorder } from '../events.js';
import { errorMessage } from '../runtime/kube-errors.js';
import { ownerReference, trialLabels } from '../trials/job-builder.js';
import type { TrialMetricsTracker } from '../trials/metrics-tracker.js';
import { httpStatus, isTransient, retryAfterMs, StudyProblem } from './reconcile-errors.js';
import { QueueReasons } from './queued-trials.js';
import { shareProfile, trialGpus, type TrialLedger } from './slot-ledger.js';

type TrialGpus = ReturnType<typeof trialGpus>;
import { studyElapsedSeconds, trialGpuHours } from './study-status.js';
import { StudyStatusWriter } from './status-writer.js';
import type { StudyCache } from './study-cache.js';
import { TrialLifecycle, type StudyPass, type TrialEntry } from './trial-lifecycle.js';
import { TrialStore } from './trial-store.js';
import { loadPriorTrials } from './prior-studies.js';
import type { PriorsStatus } from '../../api/warm-start.js';

export interface ReconcilerHooks {
  suggestionSeconds?(algorithm: string, seconds: number): void;
  /** Seconds from the event that freed a slot to the creation of the Job that refilled it. */
  slotRefillSeconds?(seconds: number): void;
  trialCounts?(namespace: string, study: string, counts: Record<string, number>): void;
  /** GPU-seconds the study's trials have used, as in status.usage.gpuHours. */
  gpuSeconds?(namespace: string, study: string, seconds: number): void;
  /** The study was deleted: per-study series must go with it, or they pile up forever. */
  studyGone?(namespace: string, study: string): void;
}

export interface ReconcilerDeps {
  clients: KubeClients;
  tracker: TrialMetricsTracker;
  events: EventRecorder;
  logger: Logger;
  hooks?: ReconcilerHooks;
  /** The operator-wide cap on active trials (or their GPUs, shared fairly) across all studies. */
  slots?: TrialLedger;
  /** The informers' caches to read from; without it every reconcile reads live (LISTs). */
  cache?: StudyCache;
  /** Suggestions and pruning decisions; inline unless the operator passes its worker pool. */
  advisor?: Advisor;
  /** The kinds trials may be; batch/v1 Job when unset. */
  trialKinds?: TrialKind[];
  /** Why Studies of a configured kind cannot run now (its CRD is not installed), if they cannot. */
  kindUnavailable?(kind: TrialKind): string | undefined;
  /** The operator's own limits on a valid spec (trial pod policy, Prometheus allowlist): a message makes it InvalidSpec. */
  policy?(spec: StudySpec): string | undefined;
  now?(): Date;
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

const stateOf = (t: TrialObject): TrialState => t.status?.state ?? 'Pending';

/** A study's engine for one generation of its spec, with the priors it was seeded with. */
interface ParsedEngine {
  generation: number;
  engine: StudyEngine;
  priors?: PriorsStatus;
  /** GPUs of one trial, counted from its rendered template (set up once per generation). */
  gpus: TrialGpus;
}

/**
 * Drives one Study towards its goal. Level-triggered and idempotent: every decision is derived
 * from the objects as they are now (see TrialLifecycle for one trial's way to its end).
 */
export class StudyReconciler {
  private readonly store: TrialStore;
  private readonly trials: TrialLifecycle;
  private readonly status: StudyStatusWriter;
  private readonly engines = new Map<string, ParsedEngine>();
  private readonly advisor: Advisor;
  private readonly gpuCounts = new WeakMap<object, number>();

  constructor(private readonly deps: ReconcilerDeps) {
    this.store = new TrialStore(deps.clients, deps.cache);
    this.advisor = deps.advisor ?? inlineAdvisor;
    this.trials = new TrialLifecycle({
      clients: deps.clients,
      store: this.store,
      tracker: deps.tracker,
      events: deps.events,
      ...(deps.slots ? { slots: deps.slots } : {}),
      advisor: this.advisor,
      now: () => this.now(),
    });
    this.status = new StudyStatusWriter(this.store, deps.events, deps.hooks);
  }

  /** The study is gone: drop what was kept for it. */
  private forget(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    this.engines.delete(key);
    for (const trial of this.deps.tracker.trackedKeys(key)) this.trials.forget(trial);
    this.deps.slots?.forgetStudy(key);
    this.deps.cache?.forget(namespace, name);
    this.deps.hooks?.studyGone?.(namespace, name);
  }

  async reconcile(namespace: string, name: string, triggeredAt?: number): Promise<ReconcileResult> {
    let study: StudyObject | undefined;
    try {
      study = await this.store.getStudy(namespace, name);
      if (!study || study.metadata.deletionTimestamp) {
        this.forget(namespace, name);
        return {};
      }
      const parsed = await this.parse(study);
      if (!parsed.ok) {
        await this.status.reportInvalid(study, parsed.message, this.now());
        return {};
      }
      const ps = { ...study, spec: parsed.engine.spec as StudySpec } as ParsedStudy;
      // Its workloads cannot be listed, so nothing about its trials is known: touch none of them.
      const unavailable = this.deps.kindUnavailable?.(this.trialKind(ps.spec) as TrialKind);
      if (unavailable) {
        await this.status.reportProblem(
          study,
          new StudyProblem('TrialKindUnavailable', unavailable),
          this.now(),
        );
        return {};
      }
      return await this.drive(ps, parsed, triggeredAt);
    } catch (err) {
      return this.recover(study, err);
    }
  }

  /**
   * Transient errors are retried with backoff (after Retry-After when the apiserver gave one);
   * anything else becomes the Study's Degraded condition and an Event instead of an endless
   * retry that nobody sees.
   */
  private async recover(study: StudyObject | undefined, err: unknown): Promise<ReconcileResult> {
    if (isTransient(err)) {
      const wait = retryAfterMs(err);
      if (wait !== undefined) return { requeueAfterMs: wait };
      throw err;
    }
    if (!study) throw err;
    const problem = err instanceof StudyProblem ? err : new StudyProblem('ReconcileError', errorMessage(err));
    this.deps.logger.warn(
      { study: objectKey(study), reason: problem.reason, err: problem.message },
      'reconcile cannot go on; recorded on the study',
    );
    await this.status.reportProblem(study, problem, this.now());
    return {};
  }

  /** One pass over the study: advance its trials, start or stop trials, write its status. */
  private async drive(
    ps: ParsedStudy,
    { engine, priors, gpus }: ParsedEngine,
    triggeredAt?: number,
  ): Promise<ReconcileResult> {
    const { namespace, name } = ps.metadata;
    // parse() refused a Study whose kind is not configured, so there is one.
    const kind = this.trialKind(ps.spec) as TrialKind;
    const [trialObjects, workloads, pods] = await Promise.all([
      this.store.listTrials(namespace, name),
      this.store.listTrialWorkloads(namespace, name, kind),
      this.store.listPods(namespace, name, kind),
    ]);
    let requeueAfterMs: number | undefined;
    const now = this.now();
    const gpusOf = this.cachedGpus(gpus);
    const { entries, misfit } = this.entries(engine, trialObjects, (o) =>
      trialGpuHours(o.status, gpusOf(o), now),
    );
    const pass: StudyPass = {
      ps,
      kind,
      engine,
      entries,
      now,
      log: this.deps.logger.child({ study: `${namespace}/${name}` }),
      queue: new QueueReasons(() => this.store.listWorkloads(namespace)),
      requeueIn: (ms) => (requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, Math.max(50, ms))),
      ...(misfit ? { problem: misfit } : {}),
      ...(priors ? { priors } : {}),
    };
    this.deps.slots?.profile?.(objectKey(ps), shareProfile(ps.spec));
    this.syncActive(objectKey(ps), pass.entries, gpusOf);
    const byName = new Map(workloads.map((w) => [w.metadata?.name as string, w]));
    let freed = 0;
    for (const entry of [...pass.entries]) {
      if (entry.object.metadata.deletionTimestamp) continue;
      if (await this.trials.advance(pass, entry, byName.get(entry.object.metadata.name), pods)) freed++;
    }
    const outcome = engine.outcome(
      pass.entries.map((e) => e.view),
      studyElapsedSeconds(ps.status?.startTime, now),
    );
    if (outcome.done) await this.stopActive(pass, outcome);
    else if (!misfit) await this.startTrials(pass, gpusOf, freed > 0 ? triggeredAt : undefined);
    // A study that starts nothing this pass wants nothing: its stale demand must not hold back others.
    if (outcome.done || misfit) this.deps.slots?.available(objectKey(ps), 0);
    await this.status.write(pass);
    return requeueAfterMs === undefined ? {} : { requeueAfterMs };
  }

  /**
   * Trials that are no longer active (ended, or deleted from under the study) are no longer
   * followed and no longer hold a slot of the operator-wide cap.
   */
  private syncActive(studyKey: string, entries: TrialEntry[], gpusOf: TrialGpus): void {
    const active = new Map(
      entries
        .filter((e) => !TERMINAL_TRIAL_STATES.has(e.view.state) && !e.object.metadata.deletionTimestamp)
        .map((e) => [objectKey(e.object), e.object]),
    );
    for (const key of this.deps.tracker.trackedKeys(studyKey)) if (!active.has(key)) this.trials.forget(key);
    this.deps.slots?.sync(studyKey, active.keys(), (key) => gpusOf(active.get(key)!));
  }

  /**
   * GPUs of each trial, from its own rendered template. A Trial's spec never changes, so the
   * count is kept per spec object: trials the cache has not replaced are not rendered again.
   */
  private cachedGpus(count: TrialGpus): TrialGpus {
    return (t) => {
      let gpus = this.gpuCounts.get(t.spec);
      if (gpus === undefined) this.gpuCounts.set(t.spec, (gpus = count(t)));
      return gpus;
    };
  }

  /** A spent wall-clock budget is the reason its running trials stop, so they say so. */
  private async stopActive(pass: StudyPass, outcome: Extract<StudyOutcome, { done: true }>): Promise<void> {
    const reason = outcome.reason === 'BudgetExhausted' ? 'BudgetExhausted' : 'StudyFinished';
    const message = `the study finished: ${outcome.message}`;
    for (const entry of pass.entries.filter((e) => !TERMINAL_TRIAL_STATES.has(e.view.state)))
      await this.trials.end(pass, entry, { state: 'Pruned', reason, message });
  }

  /** Plans and creates trials for the free slots, each holding a slot of the operator-wide cap. */
  private async startTrials(
    pass: StudyPass,
    gpusOf: TrialGpus,
    refillTriggeredAt: number | undefined,
  ): Promise<void> {
    const studyKey = objectKey(pass.ps);
    const views = pass.entries.map((e) => e.view);
    const free = pass.engine.freeSlots(views);
    const wanted = this.deps.slots ? this.deps.slots.available(studyKey, free) : free;
    if (wanted === 0) return;
    try {
      await this.createPlanned(pass, await this.plan(pass, views, wanted), gpusOf, refillTriggeredAt);
    } finally {
      this.deps.slots?.settle?.(studyKey);
    }
  }

  private async createPlanned(
    pass: StudyPass,
    planned: PlannedTrial[],
    gpusOf: TrialGpus,
    refillTriggeredAt: number | undefined,
  ): Promise<void> {
    const studyKey = objectKey(pass.ps);
    for (const p of planned) {
      const name = trialName(pass.ps.metadata.name, p.index);
      const trialKey = `${pass.ps.metadata.namespace}/${name}`;
      const parameters = pass.engine.space.format(p.params);
      const gpus = this.deps.slots ? gpusOf({ metadata: { name }, spec: { index: p.index, parameters } }) : 0;
      if (this.deps.slots && !this.deps.slots.reserve(studyKey, trialKey, gpus)) break;
      const entry = await this.createTrial(pass, p.index, p.params).catch((err: unknown) => {
        this.deps.slots?.release(trialKey);
        throw err;
      });
      if (!entry) {
        this.deps.slots?.release(trialKey);
        break;
      }
      pass.entries.push(entry);
      // An adopted Trial that already ran or has its workload was missed by this pass's view,
      // so the plan was made from a stale history: start nothing more, and look again.
      if (TERMINAL_TRIAL_STATES.has(entry.view.state) || entry.object.status?.jobName) {
        if (TERMINAL_TRIAL_STATES.has(entry.view.state)) this.deps.slots?.release(trialKey);
        pass.requeueIn(1000);
        break;
      }
      await this.trials.createJob(pass, entry);
    }
    if (planned.length > 0 && refillTriggeredAt !== undefined)
      this.deps.hooks?.slotRefillSeconds?.((Date.now() - refillTriggeredAt) / 1000);
  }

  /** The sampler's suggestions; a sampler that throws blocks the study visibly (PlanFailed). */
  private async plan(pass: StudyPass, views: TrialView[], wanted: number): Promise<PlannedTrial[]> {
    const algorithm = pass.ps.spec.algorithm.name;
    const started = performance.now();
    let planned: PlannedTrial[];
    try {
      planned = await this.advisor.plan(pass.ps, pass.engine, views, wanted);
    } catch (err) {
      pass.problem ??= new StudyProblem(
        'PlanFailed',
        `the ${algorithm} sampler could not suggest trials: ${errorMessage(err)}`,
      );
      return [];
    }
    if (planned.length > 0)
      this.deps.hooks?.suggestionSeconds?.(algorithm, (performance.now() - started) / 1000);
    return planned;
  }

  private trialKind(spec: StudySpec): TrialKind | undefined {
    const type = workloadType(spec.trialTemplate);
    return (this.deps.trialKinds ?? DEFAULT_TRIAL_KINDS).find((k) => sameType(k, type));
  }

  /** A kind the operator does not watch (and has no RBAC for) cannot run trials. */
  private kindRefusal(spec: StudySpec): string | undefined {
    if (this.trialKind(spec)) return undefined;
    return unconfiguredKindMessage(
      workloadType(spec.trialTemplate),
      this.deps.trialKinds ?? DEFAULT_TRIAL_KINDS,
    );
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  private async parse(
    study: StudyObject,
  ): Promise<({ ok: true } & ParsedEngine) | { ok: false; message: string }> {
    const key = objectKey(study);
    const generation = study.metadata.generation ?? 0;
    const cached = this.engines.get(key);
    if (cached && cached.generation === generation) return { ok: true, ...cached };
    const result = StudySpec.safeParse(study.spec, { reportInput: true });
    if (!result.success) {
      return {
        ok: false,
        message: formatZodError(result.error, ['spec'])
          .map((e) => `${e.path}: ${e.message}`)
          .join('; '),
      };
    }
    const refused = this.kindRefusal(result.data) ?? this.deps.policy?.(result.data);
    if (refused) return { ok: false, message: refused };
    const priors = result.data.priorStudies.length
      ? await loadPriorTrials(
          this.store,
          study.metadata.namespace ?? '',
          study.metadata.name ?? '',
          result.data,
        )
      : undefined;
    if (priors && !priors.ok) return priors;
    try {
      const parsed: ParsedEngine = {
        generation,
        engine: new StudyEngine(result.data, { priors: priors?.priors ?? [] }),
        gpus: trialGpus(study.metadata.name ?? '', result.data),
        ...(priors ? { priors: priors.status } : {}),
      };
      this.engines.set(key, parsed);
      return { ok: true, ...parsed };
    } catch (err) {
      if (err instanceof SettingsError) return { ok: false, message: `spec.${err.message}` };
      throw err;
    }
  }

  /**
   * The trials as the engine sees them. A trial whose parameters the spec no longer accepts (an
   * edit of spec.parameters on a live study) cannot be given to a sampler: it stays in the
   * counts, but no new trial is planned until the spec fits the history again.
   */
  private entries(
    engine: StudyEngine,
    objects: TrialObject[],
    gpuHours: (o: TrialObject) => number,
  ): { entries: TrialEntry[]; misfit?: StudyProblem } {
    const misfits: string[] = [];
    const entries = objects
      .map((o) => ({ object: o, view: { ...this.view(engine, o, misfits), gpuHours: gpuHours(o) } }))
      .sort((a, b) => a.view.index - b.view.index);
    if (misfits.length === 0) return { entries };
    const more = misfits.length > 1 ? ` (and ${misfits.length - 1} more trials)` : '';
    const message =
      `${misfits[0]}${more}; no new trials can be planned from this history. ` +
      'spec.parameters must not change once a study has trials: restore the previous parameters, or start a new Study';
    return { entries, misfit: new StudyProblem('HistoryIncompatible', message) };
  }

  private view(engine: StudyEngine, o: TrialObject, misfits: string[]): TrialView {
    let params: Assignment;
    try {
      params = engine.space.parse(o.spec.parameters);
    } catch (err) {
      misfits.push(
        `trial ${o.metadata.name} ${JSON.stringify(o.spec.parameters)} does not fit spec.parameters: ${(err as Error).message}`,
      );
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
      ...(o.status?.metrics !== undefined ? { metrics: o.status.metrics } : {}),
      intermediate: o.status?.intermediate ?? [],
    };
  }

  private async createTrial(
    pass: StudyPass,
    index: number,
    params: Assignment,
  ): Promise<TrialEntry | undefined> {
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
    let result: { trial: TrialObject; created: boolean };
    try {
      result = await this.store.createTrial(body);
    } catch (err) {
      if (httpStatus(err) === undefined || isTransient(err)) throw err;
      // E.g. a name too long for the label it becomes (63 characters): every later trial would fail the same way.
      pass.problem ??= new StudyProblem(
        'TrialRejected',
        `could not create Trial ${name}: ${errorMessage(err)}`,
      );
      return undefined;
    }
    if (!result.created) pass.log.info({ trial: name }, 'adopted a trial created before a restart');
    return { object: result.trial, view: this.view(engine, result.trial, []) };
  }
}
