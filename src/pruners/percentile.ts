import type { Pruner, PrunerFactory } from '../engine/pruner.js';
import { goalSign } from '../engine/trial-view.js';
import { bestUpTo, fmt, isEvidence, KEEP, lastStep, quantile, reader } from './common.js';

export interface PercentileConfig {
  /** Keep a trial only if it is within the best `percentile`% of the other trials at its step. */
  percentile: number;
  /** Prune only once at least this many other trials have reached the step being judged. */
  startupTrials: number;
  /** Never prune at steps <= warmupSteps. */
  warmupSteps: number;
  /** Label used in reasons. */
  label: string;
}

/**
 * Median / percentile pruning, judged at the trial's latest step s (if s > warmupSteps):
 *
 * - the trial's score is its best-so-far value over steps <= s (robust to a noisy epoch);
 * - each other non-failed trial that has reached s (reported a step >= s) contributes its own
 *   best-so-far over steps <= s, so both sides are measured the same way;
 * - with fewer than `startupTrials` (min 1) such trials, the trial is kept;
 * - the cutoff is the `percentile`-th percentile of those values in the goal's direction
 *   (linear interpolation; for maximize, the (100 − percentile)-th of the raw values);
 * - the trial is pruned only if strictly worse than the cutoff (ties are kept).
 *
 * `percentile: 25` therefore keeps roughly the top 25% and the median pruner is percentile 50.
 */
export function createPercentilePrunerFrom(cfg: PercentileConfig): Pruner {
  return {
    decide(trial, { goal, trials }) {
      const step = lastStep(trial);
      if (step === undefined || step <= cfg.warmupSteps) return KEEP;
      const own = bestUpTo(goal, trial, step);
      if (own === undefined) return KEEP;
      const sign = goalSign(goal);
      const others: number[] = [];
      for (const t of trials) {
        if (t.index === trial.index || !isEvidence(t)) continue;
        const v = bestUpTo(goal, t, step);
        if (v !== undefined) others.push(sign * v);
      }
      if (others.length < Math.max(1, cfg.startupTrials)) return KEEP;
      others.sort((a, b) => a - b);
      const cutoff = sign * quantile(others, cfg.percentile / 100);
      if (sign * own <= sign * cutoff) return KEEP;
      return {
        prune: true,
        step,
        reason:
          `${cfg.label}: best value ${fmt(own)} by step ${fmt(step)} is worse than the ` +
          `${cfg.label === 'median' ? 'median' : `${fmt(cfg.percentile)}th percentile`} ` +
          `${fmt(cutoff)} of ${others.length} other trials at that step`,
      };
    },
    judgesBetween: (_index, _after, upTo) => upTo > cfg.warmupSteps,
  };
}

export const createMedianPruner: PrunerFactory = (settings) => {
  const r = reader(settings);
  const startupTrials = r.number('startupTrials', { default: 5, min: 0, integer: true });
  const warmupSteps = r.number('warmupSteps', { default: 2, min: 0 });
  r.rejectUnknown();
  return createPercentilePrunerFrom({ percentile: 50, startupTrials, warmupSteps, label: 'median' });
};

export const createPercentilePruner: PrunerFactory = (settings) => {
  const r = reader(settings);
  const percentile = r.number('percentile', { default: 25, min: 0, max: 100 });
  const startupTrials = r.number('startupTrials', { default: 5, min: 0, integer: true });
  const warmupSteps = r.number('warmupSteps', { default: 2, min: 0 });
  r.rejectUnknown();
  return createPercentilePrunerFrom({ percentile, startupTrials, warmupSteps, label: 'percentile' });
};
