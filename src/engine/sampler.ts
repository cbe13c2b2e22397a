import type { Assignment } from '../api/parameter.js';
import type { Goal } from '../api/study.js';
import type { ConstraintView, ObjectiveView } from './feasibility.js';
import type { SearchSpace } from './search-space.js';
import type { TrialView } from './trial-view.js';

export interface SamplerContext {
  readonly space: SearchSpace;
  readonly goal: Goal;
  readonly seed: number;
  /**
   * Every trial so far: finished ones carry values, active ones are pending evaluations that a
   * batch-aware sampler should steer away from.
   */
  readonly trials: readonly TrialView[];
  /** Every objective in order (absent: one objective, the metric behind `value`, with `goal`). */
  readonly objectives?: readonly ObjectiveView[];
  /** Bounds a trial must meet to count as good (see feasibility.ts); absent: none. */
  readonly constraints?: readonly ConstraintView[];
}

/**
 * Modelled on Optuna's sampler: given the history, propose parameters. Implementations must be
 * deterministic in (seed, indices, trials) so that a restarted operator proposes the same
 * points for the same trial indices.
 */
export interface Sampler {
  /** Parameters for the trials with these indices, in order. */
  suggest(ctx: SamplerContext, indices: readonly number[]): Promise<Assignment[]>;
  /** How many distinct trials this sampler can ever propose (grid search); undefined if unbounded. */
  capacity?(space: SearchSpace): number | undefined;
}

/** A problem with `algorithm.settings` or with the space for this algorithm, tied to a field. */
export class SettingsError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'SettingsError';
  }
}

/** Builds a sampler from validated `algorithm.settings`; throws SettingsError on bad settings. */
export type SamplerFactory = (settings: Readonly<Record<string, unknown>>, space: SearchSpace) => Sampler;
