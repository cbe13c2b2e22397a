import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Assignment } from '../../api/parameter.js';
import type { PruneDecision } from '../../engine/pruner.js';
import type { PlannedTrial, StudyEngine } from '../../engine/study-engine.js';
import type { TrialView } from '../../engine/trial-view.js';
import type { EventRecorder } from '../events.js';
import type { AdvisorTask } from './advisor-tasks.js';
import { packTrials } from './packed-trials.js';
import { BudgetExceededError, WorkerPool } from './worker-pool.js';

/**
 * Where the reconciler gets a Study's expensive decisions: which parameters the next trials
 * get, and whether a running trial is pruned. `study` is the object Events are recorded on.
 */
export interface Advisor {
  plan(
    study: KubernetesObject,
    engine: StudyEngine,
    trials: readonly TrialView[],
    wanted: number,
  ): Promise<PlannedTrial[]>;
  prune(
    study: KubernetesObject,
    engine: StudyEngine,
    trial: TrialView,
    trials: readonly TrialView[],
  ): Promise<PruneDecision>;
}

/** Computes on the calling thread, as the local runner does. */
export const inlineAdvisor: Advisor = {
  plan: (_study, engine, trials, wanted) => engine.plan(trials, wanted),
  prune: async (_study, engine, trial, trials) => engine.prune(trial, trials),
};

export interface PooledAdvisorOptions {
  /** Worker threads; 2 leaves one for other studies while one fits a large model. */
  workers: number;
  suggestBudgetMs: number;
  pruneBudgetMs: number;
  events: EventRecorder;
  logger: Logger;
  onSuggestionTimeout?(algorithm: string): void;
  onPruneTimeout?(pruner: string): void;
  /** Worker module; defaults to advisor-worker next to this file (.js when built, .ts under tsx). */
  workerUrl?: URL;
}

const ADVISOR_WORKER_URL = new URL(
  `./advisor-worker${extname(fileURLToPath(import.meta.url))}`,
  import.meta.url,
);

/**
 * Runs suggestions and pruning decisions on a worker pool with a time budget each. A suggestion
 * past its budget does not hold the study up: those trials get the engine's seeded random
 * fallback, and a `SuggestionTimeout` Event says so. A pruning decision past its budget keeps
 * the trial running; the next reported step is judged again.
 */
export class PooledAdvisor implements Advisor {
  private readonly pool: WorkerPool;

  constructor(private readonly opts: PooledAdvisorOptions) {
    this.pool = new WorkerPool({ size: opts.workers, workerUrl: opts.workerUrl ?? ADVISOR_WORKER_URL });
  }

  async plan(
    study: KubernetesObject,
    engine: StudyEngine,
    trials: readonly TrialView[],
    wanted: number,
  ): Promise<PlannedTrial[]> {
    const indices = engine.nextIndices(trials, wanted);
    if (indices.length === 0) return [];
    let params: Assignment[];
    try {
      const { packed, transfer } = packTrials(trials);
      params = await this.pool.run<Assignment[]>(
        {
          kind: 'suggest',
          spec: engine.spec,
          trials: packed,
          indices,
          priors: engine.priorTrials,
        } satisfies AdvisorTask,
        this.opts.suggestBudgetMs,
        transfer,
      );
    } catch (err) {
      if (!(err instanceof BudgetExceededError)) throw err;
      const algorithm = engine.spec.algorithm.name;
      params = engine.fallback(indices);
      this.opts.onSuggestionTimeout?.(algorithm);
      this.opts.events.emit(
        study,
        'Warning',
        'SuggestionTimeout',
        `${algorithm} found no parameters for trial(s) ${indices.join(', ')} within ${seconds(this.opts.suggestBudgetMs)}; ` +
          'they use random parameters drawn from the seed and trial index instead',
      );
    }
    return indices.map((index, k) => ({ index, params: params[k] as Assignment }));
  }

  async prune(
    study: KubernetesObject,
    engine: StudyEngine,
    trial: TrialView,
    trials: readonly TrialView[],
  ): Promise<PruneDecision> {
    const pruner = engine.spec.earlyStopping?.name;
    if (!pruner) return { prune: false };
    try {
      const { packed, transfer } = packTrials(trials);
      return await this.pool.run<PruneDecision>(
        { kind: 'prune', spec: engine.spec, trial, trials: packed } satisfies AdvisorTask,
        this.opts.pruneBudgetMs,
        transfer,
      );
    } catch (err) {
      if (!(err instanceof BudgetExceededError)) throw err;
      this.opts.onPruneTimeout?.(pruner);
      this.opts.logger.warn(
        { study: study.metadata?.name, trial: trial.index, pruner, budgetMs: this.opts.pruneBudgetMs },
        'pruning decision ran out of time; the trial keeps running',
      );
      return { prune: false };
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

const seconds = (ms: number) => `${ms / 1000}s`;
