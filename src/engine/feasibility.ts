import type { Goal } from '../api/study.js';
import type { TrialView } from './trial-view.js';
import { goalSign } from './trial-view.js';

export interface ObjectiveView {
  readonly metric: string;
  readonly goal: Goal;
}

export interface ConstraintView {
  readonly metric: string;
  readonly max?: number | undefined;
  readonly min?: number | undefined;
}

/** A final metric of a trial: the primary objective is `value`, the others are in `metrics`. */
function finalMetric(t: TrialView, metric: string, primary: boolean): number | undefined {
  const v = primary ? (t.value ?? t.metrics?.[metric]) : t.metrics?.[metric];
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

/**
 * How far a trial misses its constraints, summed over them: 0 when feasible. A trial that
 * never reported a constrained metric (failed, pruned, or the metric was missing) is infeasible
 * with Infinity, since nothing says it would have met the bound.
 */
export function violation(t: TrialView, constraints: readonly ConstraintView[]): number {
  let total = 0;
  for (const c of constraints) {
    const v = finalMetric(t, c.metric, false);
    if (v === undefined) return Infinity;
    if (c.max !== undefined) total += Math.max(0, v - c.max);
    if (c.min !== undefined) total += Math.max(0, c.min - v);
  }
  return total;
}

/** A trial's objective values as reported, in the order of the objectives; undefined if one is missing. */
export function objectiveValues(t: TrialView, objectives: readonly ObjectiveView[]): number[] | undefined {
  const out: number[] = [];
  for (const [i, o] of objectives.entries()) {
    const v = finalMetric(t, o.metric, i === 0);
    if (v === undefined) return undefined;
    out.push(v);
  }
  return out;
}

/** The same values turned into minimisation, the form Pareto arithmetic and samplers use. */
export function minimised(values: readonly number[], objectives: readonly ObjectiveView[]): number[] {
  return values.map((v, i) => goalSign((objectives[i] as ObjectiveView).goal) * v);
}
