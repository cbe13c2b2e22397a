import type { Goal } from '../api/study.js';
import type { TrialView } from './trial-view.js';

export type PruneDecision = { prune: false } | { prune: true; step: number; reason: string };

export interface PrunerContext {
  readonly goal: Goal;
  readonly trials: readonly TrialView[];
}

/**
 * Decides from intermediate values alone whether an active trial should stop now. Pure and
 * deterministic, so the local runner and the operator reach the same decision.
 */
export interface Pruner {
  decide(trial: TrialView, ctx: PrunerContext): PruneDecision;
}

export type PrunerFactory = (settings: Readonly<Record<string, unknown>>) => Pruner;
