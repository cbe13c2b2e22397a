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
  /**
   * Whether a report that moves trial `index` from step `after` to `upTo` reaches a step this
   * pruner judges (an ASHA rung). The operator records such values at once rather than in its
   * next batch, so the decision is not delayed. Without it, every step is one.
   */
  judgesBetween?(index: number, after: number, upTo: number): boolean;
}

export type PrunerFactory = (settings: Readonly<Record<string, unknown>>) => Pruner;
