import { objectivesOf, primaryObjective } from '../api/objectives.js';
import type { Assignment } from '../api/parameter.js';
import { durationSeconds, type Goal, type StudyConfig } from '../api/study.js';
import { PRUNERS } from '../pruners/index.js';
import { SAMPLER_SUPPORT, SAMPLERS } from '../samplers/index.js';
import {
  type ConstraintView,
  minimised,
  objectiveValues,
  type ObjectiveView,
  violation,
} from './feasibility.js';
import { nonDominatedRanks } from './pareto.js';
import { randomPoint } from '../samplers/random.js';
import type { PruneDecision, Pruner } from './pruner.js';
import { SettingsError, type Sampler } from './sampler.js';
import { SearchSpace } from './search-space.js';
import type { TrialView } from './trial-view.js';
import { bestIntermediate, better, isActive, isFailure } from './trial-view.js';

export interface PlannedTrial {
  index: number;
  params: Assignment;
}

export type StudyOutcome =
  { done: false } | { done: true; succeeded: boolean; reason: StudyEndReason; message: string };

export type StudyEndReason =
  | 'MaxTrialsReached'
  | 'TargetReached'
  | 'SearchSpaceExhausted'
  | 'MaxFailedTrialsExceeded'
  | 'NoSuccessfulTrials'
  | 'BudgetExhausted';

/** GPU-hours the trials used, and what they are expected to use once the active ones finish. */
export function gpuProjection(trials: readonly TrialView[]): {
  used: number;
  committed: number;
  estimate: number;
} {
  let used = 0;
  let finished = 0;
  let finishedHours = 0;
  for (const t of trials) {
    const hours = t.gpuHours ?? 0;
    used += hours;
    if (!isActive(t) && hours > 0) {
      finished++;
      finishedHours += hours;
    }
  }
  const estimate = finished > 0 ? finishedHours / finished : 0;
  const committed = trials.reduce(
    (sum, t) => sum + (isActive(t) ? Math.max(t.gpuHours ?? 0, estimate) : (t.gpuHours ?? 0)),
    0,
  );
  return { used, committed, estimate };
}

/** An initialTrials entry as values of the space; SettingsError naming the entry and parameter. */
function initialAssignment(
  space: SearchSpace,
  params: Readonly<Record<string, string | number>>,
  i: number,
): Assignment {
  const path = `initialTrials[${i}].params`;
  const unknown = Object.keys(params).filter((k) => !space.dims.some((d) => d.name === k));
  if (unknown.length > 0)
    throw new SettingsError(
      path,
      `${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not a parameter of this study`,
    );
  let a: Assignment;
  try {
    a = space.parse(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])));
  } catch (err) {
    throw new SettingsError(path, (err as Error).message);
  }
  const why = space.outside(a);
  if (why) throw new SettingsError(path, why);
  return a;
}

const formatHours = (h: number): string => String(Number(h.toPrecision(3)));

export interface BestTrialView {
  trial: TrialView;
  value: number;
}

/** A trial on the Pareto front, with its objective values as reported. */
export interface ParetoTrialView {
  trial: TrialView;
  values: number[];
}

/** Engine options that are not part of the Study spec. */
export interface EngineOptions {
  /**
   * Count a pruned trial's best intermediate value when choosing the best trial. Also enabled by
   * `earlyStopping.settings.countPrunedInBest: true` (either one turns it on).
   */
  countPrunedInBest?: boolean;
  /**
   * Finished trials of earlier studies over the same search space (warm start). The sampler
   * sees them as history, before this study's own trials; they are never planned, counted
   * toward maxTrials, judged by the outcome nor chosen as best.
   */
  priors?: readonly PriorTrial[];
}

/** A prior result: parameters and a value, or a failure to steer away from. */
export interface PriorTrial {
  params: Assignment;
  state: 'Succeeded' | 'Failed' | 'Pruned';
  value?: number;
}

/**
 * The study's decisions, free of Kubernetes and processes: which trials to start next, when the
 * study is over, which trial is best, and whether to prune. The operator and the local runner
 * both drive a study through this class, so they cannot disagree.
 */
export class StudyEngine {
  readonly space: SearchSpace;
  private readonly sampler: Sampler;
  private readonly pruner: Pruner | undefined;
  private readonly capacity: number | undefined;
  private readonly options: EngineOptions;
  /** spec.initialTrials as parameter values: trial k < initial.length takes initial[k]. */
  private readonly initial: Assignment[];
  /** Priors as trials with indices -n … -1, so that they sort before this study's own. */
  private readonly priors: TrialView[];
  readonly objectives: readonly ObjectiveView[];
  readonly constraints: readonly ConstraintView[];
  /** The objective followed while trials run; the only one of a single-objective study. */
  private readonly primary: { metric: string; goal: Goal; target?: number | undefined };

  constructor(
    readonly spec: StudyConfig,
    options: EngineOptions = {},
  ) {
    this.options = {
      ...options,
      countPrunedInBest:
        options.countPrunedInBest === true || spec.earlyStopping?.settings['countPrunedInBest'] === true,
    };
    this.objectives = objectivesOf(spec);
    this.constraints = spec.constraints ?? [];
    this.primary = primaryObjective(spec);
    refuseUnsupported(spec);
    this.space = new SearchSpace(spec.parameters);
    this.sampler = SAMPLERS[spec.algorithm.name](spec.algorithm.settings, this.space);
    this.capacity = this.sampler.capacity?.(this.space);
    this.initial = spec.initialTrials.map((t, i) => initialAssignment(this.space, t.params, i));
    const priors = options.priors ?? [];
    this.priors = priors.map((p, k) => ({ ...p, index: k - priors.length, intermediate: [] }));
    if (spec.earlyStopping) this.pruner = PRUNERS[spec.earlyStopping.name](spec.earlyStopping.settings);
  }

  /** Slots that `parallelism` leaves for new trials. */
  freeSlots(trials: readonly TrialView[]): number {
    return Math.max(0, this.spec.parallelism - trials.filter(isActive).length);
  }

  /**
   * How many of `wanted` new trials may start, given maxTrials, the grid, spec.budget.gpuHours
   * and the outcome.
   */
  budget(trials: readonly TrialView[], wanted: number): number {
    if (this.spec.suspend || this.outcome(trials).done) return 0;
    const remaining = Math.min(this.spec.maxTrials, this.capacity ?? Infinity) - trials.length;
    return Math.max(0, Math.min(wanted, remaining, this.gpuBudgetRoom(trials)));
  }

  /**
   * New trials spec.budget.gpuHours still has room for. Active trials are expected to use at
   * least the mean of the finished ones, and a new trial may start only while that total is
   * under the budget and one more mean still fits: so the last trial starts below the budget
   * and the study ends within one trial's worth of it (one per parallel slot in the first wave,
   * before any trial has finished and the mean is known).
   */
  private gpuBudgetRoom(trials: readonly TrialView[]): number {
    const limit = this.spec.budget?.gpuHours;
    if (limit === undefined) return Infinity;
    const { committed, estimate } = gpuProjection(trials);
    if (committed >= limit) return 0;
    return estimate > 0 ? Math.max(0, Math.floor((limit - committed) / estimate)) : Infinity;
  }

  /**
   * Parameters for the next trials. Indices continue after the highest one seen, so a caller
   * that persists trials under index-derived names can never create the same trial twice.
   */
  async plan(trials: readonly TrialView[], wanted = this.freeSlots(trials)): Promise<PlannedTrial[]> {
    const indices = this.nextIndices(trials, wanted);
    if (indices.length === 0) return [];
    const params = await this.suggest(trials, indices);
    return indices.map((index, k) => ({ index, params: params[k] as Assignment }));
  }

  /** The trial indices `plan` would fill: up to `wanted`, after the highest index seen. */
  nextIndices(trials: readonly TrialView[], wanted = this.freeSlots(trials)): number[] {
    const count = this.budget(trials, wanted);
    const next = trials.reduce((m, t) => Math.max(m, t.index + 1), 0);
    return Array.from({ length: count }, (_, k) => next + k);
  }

  /**
   * Parameters for these indices: spec.initialTrials for the first ones, the sampler's (with
   * the priors as history) for the rest; the expensive part of `plan`.
   */
  async suggest(trials: readonly TrialView[], indices: readonly number[]): Promise<Assignment[]> {
    const sampled = indices.filter((i) => i >= this.initial.length);
    const proposals =
      sampled.length === 0
        ? []
        : await this.sampler.suggest(
            {
              space: this.space,
              goal: this.primary.goal,
              seed: this.spec.seed,
              trials: this.priors.length ? [...this.priors, ...trials] : trials,
              objectives: this.objectives,
              constraints: this.constraints,
            },
            sampled,
          );
    return indices.map((i) => this.initial[i] ?? (proposals[sampled.indexOf(i)] as Assignment));
  }

  /** The priors this engine was built with, for an engine rebuilt elsewhere (a worker thread). */
  get priorTrials(): readonly PriorTrial[] {
    return this.options.priors ?? [];
  }

  /**
   * Cheap stand-ins for `suggest` when the sampler ran out of time: uniform random points that
   * depend only on the seed and the trial index, so a retried plan proposes the same ones.
   */
  fallback(indices: readonly number[]): Assignment[] {
    return indices.map(
      (i) => this.initial[i] ?? this.space.fromUnit(randomPoint(this.spec.seed, i, this.space.size)),
    );
  }

  /**
   * Whether the study is over and why. `elapsedSeconds` (time since the study started) is
   * checked against spec.budget.wallClock; without it the wall clock is not judged.
   */
  outcome(trials: readonly TrialView[], elapsedSeconds?: number): StudyOutcome {
    const { maxFailedTrials, maxTrials } = this.spec;
    const objective = this.primary;
    const failures = trials.filter(isFailure).length;
    if (failures > maxFailedTrials) {
      return {
        done: true,
        succeeded: false,
        reason: 'MaxFailedTrialsExceeded',
        message: `${failures} trials failed, more than maxFailedTrials (${maxFailedTrials})`,
      };
    }
    const best = this.best(trials);
    const hasResult = best !== undefined || this.paretoFront(trials).length > 0;
    if (best && objective.target !== undefined && !better(objective.goal, objective.target, best.value)) {
      return {
        done: true,
        succeeded: true,
        reason: 'TargetReached',
        message: `trial ${best.trial.index} reached ${objective.metric}=${best.value} (target ${objective.target})`,
      };
    }
    const spent = this.budgetSpent(trials, elapsedSeconds);
    if (spent) return spent;
    if (trials.some(isActive)) return { done: false };
    const exhausted =
      this.capacity !== undefined && trials.length >= this.capacity && this.capacity < maxTrials;
    if (trials.length < maxTrials && !exhausted) return { done: false };
    if (!hasResult) {
      return {
        done: true,
        succeeded: false,
        reason: 'NoSuccessfulTrials',
        message: `none of ${trials.length} trials ${this.noResultWhy()}`,
      };
    }
    return exhausted
      ? {
          done: true,
          succeeded: true,
          reason: 'SearchSpaceExhausted',
          message: `all ${this.capacity} grid points were tried`,
        }
      : {
          done: true,
          succeeded: true,
          reason: 'MaxTrialsReached',
          message: `${trials.length} trials ran (maxTrials ${maxTrials})`,
        };
  }

  /**
   * BudgetExhausted once the wall clock ran out (active trials are then stopped), or once
   * gpuHours leaves no room for another trial and none is active. It counts as a success when
   * some trial produced the objective.
   */
  private budgetSpent(trials: readonly TrialView[], elapsedSeconds?: number): StudyOutcome | undefined {
    const { budget } = this.spec;
    if (!budget) return undefined;
    const wallClock = budget.wallClock === undefined ? undefined : durationSeconds(budget.wallClock);
    let message: string | undefined;
    if (wallClock !== undefined && elapsedSeconds !== undefined && elapsedSeconds >= wallClock) {
      message = `budget.wallClock ${budget.wallClock} spent: the study ran ${Math.round(elapsedSeconds)}s of ${wallClock}s`;
    } else if (
      budget.gpuHours !== undefined &&
      !trials.some(isActive) &&
      trials.length < this.spec.maxTrials &&
      this.gpuBudgetRoom(trials) === 0
    ) {
      const { used, estimate } = gpuProjection(trials);
      message = `budget.gpuHours spent: ${formatHours(used)} of ${budget.gpuHours} GPU-hours used, no room for another trial (about ${formatHours(estimate)} GPU-hours each)`;
    }
    if (message === undefined) return undefined;
    const hasResult = this.best(trials) !== undefined || this.paretoFront(trials).length > 0;
    return {
      done: true,
      succeeded: hasResult,
      reason: 'BudgetExhausted',
      message: hasResult
        ? `${message}; ${trials.length} trials ran`
        : `${message}; none of ${trials.length} trials ${this.noResultWhy()}`,
    };
  }

  /** Ends "none of N trials …" when no trial counts as a result. */
  private noResultWhy(): string {
    const metrics = this.objectives.map((o) => o.metric).join(', ');
    return this.constraints.length === 0
      ? `produced ${metrics}`
      : `produced ${metrics} while meeting the constraints (${this.constraints.map(describeConstraint).join(', ')})`;
  }

  /** True when the study has several objectives and its result is a Pareto front, not one best trial. */
  get multiObjective(): boolean {
    return this.objectives.length > 1;
  }

  /**
   * The best feasible trial of a single-objective study (undefined for several objectives: see
   * paretoFront); ties go to the earlier trial so the answer is stable.
   */
  best(trials: readonly TrialView[]): BestTrialView | undefined {
    if (this.multiObjective) return undefined;
    const goal = this.primary.goal;
    let best: BestTrialView | undefined;
    for (const trial of trials) {
      if (this.constraints.length > 0 && violation(trial, this.constraints) > 0) continue;
      let value: number | undefined;
      if (trial.state === 'Succeeded') value = trial.value;
      else if (trial.state === 'Pruned' && this.options.countPrunedInBest)
        value = bestIntermediate(goal, trial);
      if (value === undefined || !Number.isFinite(value)) continue;
      if (
        !best ||
        better(goal, value, best.value) ||
        (value === best.value && trial.index < best.trial.index)
      ) {
        best = { trial, value };
      }
    }
    return best;
  }

  /** Whether a trial's report from step `after` to `upTo` reaches a step its pruner judges. */
  judgesBetween(index: number, after: number, upTo: number): boolean {
    if (!this.pruner) return false;
    return this.pruner.judgesBetween?.(index, after, upTo) ?? true;
  }

  /**
   * The study's result with several objectives (with one, the best trials tied on it): the
   * succeeded, feasible trials no other such trial dominates, by index.
   */
  paretoFront(trials: readonly TrialView[]): ParetoTrialView[] {
    const candidates: ParetoTrialView[] = [];
    for (const trial of trials) {
      if (trial.state !== 'Succeeded') continue;
      if (this.constraints.length > 0 && violation(trial, this.constraints) > 0) continue;
      const values = objectiveValues(trial, this.objectives);
      if (values) candidates.push({ trial, values });
    }
    const ranks = nonDominatedRanks(candidates.map((c) => minimised(c.values, this.objectives)));
    return candidates.filter((_, i) => ranks[i] === 0).sort((a, b) => a.trial.index - b.trial.index);
  }

  /** Whether an active trial should stop now; always "no" without earlyStopping. */
  prune(trial: TrialView, trials: readonly TrialView[]): PruneDecision {
    if (!this.pruner || !isActive(trial)) return { prune: false };
    return this.pruner.decide(trial, { goal: this.primary.goal, trials });
  }
}

function describeConstraint(c: ConstraintView): string {
  return c.max !== undefined ? `${c.metric} <= ${c.max}` : `${c.metric} >= ${c.min}`;
}

/**
 * Refuses, at validation, a study its algorithm or pruner cannot serve soundly: pruners judge
 * one curve, so they cannot tell whether a trial is dominated on several objectives.
 */
function refuseUnsupported(spec: StudyConfig): void {
  const name = spec.algorithm.name;
  const support = SAMPLER_SUPPORT[name];
  if (spec.objectives && !support.multiObjective) {
    const able = Object.entries(SAMPLER_SUPPORT)
      .filter(([, s]) => s.multiObjective)
      .map(([n]) => n);
    throw new SettingsError(
      'algorithm.name',
      `${name} handles one objective only, and this study has ${spec.objectives.length} (spec.objectives): use one of ${able.join(', ')}`,
    );
  }
  if (spec.constraints?.length && !support.constraints) {
    const able = Object.entries(SAMPLER_SUPPORT)
      .filter(([, s]) => s.constraints)
      .map(([n]) => n);
    throw new SettingsError(
      'algorithm.name',
      `${name} cannot take constraints into account (spec.constraints): use one of ${able.join(', ')}`,
    );
  }
  if (spec.objectives && spec.earlyStopping) {
    throw new SettingsError(
      'earlyStopping',
      `${spec.earlyStopping.name} judges a trial by one curve and cannot prune a study with several objectives (spec.objectives): remove earlyStopping`,
    );
  }
}
