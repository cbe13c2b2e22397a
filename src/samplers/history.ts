import { minimised, objectiveValues, violation } from '../engine/feasibility.js';
import type { SamplerContext } from '../engine/sampler.js';
import type { SearchSpace } from '../engine/search-space.js';
import { goalSign, isActive, isFailure, type TrialView } from '../engine/trial-view.js';

/**
 * The history as model-based samplers see it: points on the unit cube (discrete values at the
 * centre of their bucket) and objective values turned into minimisation.
 */
export interface History {
  /** Completed evidence: Succeeded trials, plus Pruned trials with an imputed value. */
  readonly x: number[][];
  readonly y: number[];
  /** Every objective of each row, minimised; [y] for a single-objective study. */
  readonly ys: number[][];
  /** How far each row misses the constraints (0: feasible; see feasibility.ts). */
  readonly violation: number[];
  /** Index of the trial behind each row of x/y. */
  readonly index: number[];
  /** Points still being evaluated (Pending/Running). */
  readonly pending: number[][];
  /** Points whose evaluation failed; never modelled as good, only avoided. */
  readonly failed: number[][];
  /** space.key of every trial already proposed, to avoid exact duplicates. */
  readonly keys: Set<string>;
}

export function collectHistory(ctx: SamplerContext): History {
  if (ctx.objectives && ctx.objectives.length > 1) return collectMultiObjective(ctx);
  const { space } = ctx;
  const sign = goalSign(ctx.goal);
  const constraints = ctx.constraints ?? [];
  const trials = [...ctx.trials].sort((a, b) => a.index - b.index);
  const h = emptyHistory();
  const push = (u: number[], y: number, t: TrialView) => {
    h.x.push(u);
    h.y.push(y);
    h.ys.push([y]);
    h.violation.push(constraints.length > 0 ? violation(t, constraints) : 0);
    h.index.push(t.index);
  };
  let worst = -Infinity;
  for (const t of trials) {
    if (t.state === 'Succeeded' && t.value !== undefined && Number.isFinite(t.value))
      worst = Math.max(worst, sign * t.value);
  }
  for (const t of trials) {
    h.keys.add(space.key(t.params));
    const u = space.toUnit(t.params);
    if (isActive(t)) {
      h.pending.push(u);
    } else if (t.state === 'Succeeded') {
      if (t.value !== undefined && Number.isFinite(t.value)) push(u, sign * t.value, t);
      else h.failed.push(u);
    } else if (t.state === 'Pruned') {
      // A pruned trial is low-fidelity evidence: it was stopped because it looked worse than
      // its peers. Its last intermediate value stands in for the final one, but never better
      // than the worst completed trial, so a trial stopped early cannot look like the optimum.
      const last = t.intermediate.length > 0 ? t.intermediate[t.intermediate.length - 1]?.value : t.value;
      if (last === undefined || !Number.isFinite(last)) {
        h.failed.push(u);
        continue;
      }
      push(u, Number.isFinite(worst) ? Math.max(sign * last, worst) : sign * last, t);
    } else if (isFailure(t)) {
      h.failed.push(u);
    }
  }
  return h;
}

function emptyHistory(): History {
  return { x: [], y: [], ys: [], violation: [], index: [], pending: [], failed: [], keys: new Set() };
}

/**
 * With several objectives only trials that reported all of them are evidence: pruners refuse
 * such studies, so there are no imputed values to make up; anything else counts as failed.
 */
function collectMultiObjective(ctx: SamplerContext): History {
  const objectives = ctx.objectives ?? [];
  const constraints = ctx.constraints ?? [];
  const h = emptyHistory();
  for (const t of [...ctx.trials].sort((a, b) => a.index - b.index)) {
    h.keys.add(ctx.space.key(t.params));
    const u = ctx.space.toUnit(t.params);
    const values = t.state === 'Succeeded' ? objectiveValues(t, objectives) : undefined;
    if (isActive(t)) h.pending.push(u);
    else if (!values) h.failed.push(u);
    else {
      const ys = minimised(values, objectives);
      h.x.push(u);
      h.y.push(ys[0] as number);
      h.ys.push(ys);
      h.violation.push(constraints.length > 0 ? violation(t, constraints) : 0);
      h.index.push(t.index);
    }
  }
  return h;
}

/** Snaps a unit point to a value the space can produce, expressed back on the unit cube. */
export function snap(space: SearchSpace, u: readonly number[]): number[] {
  return space.toUnit(space.fromUnit(u));
}

/** Bucket count of each dimension if categorical, else 0. */
export function categoryCounts(space: SearchSpace): number[] {
  return space.dims.map((d) => (d.type === 'categorical' ? (d.values?.length ?? 1) : 0));
}

/** Which bucket of a categorical dimension a unit coordinate falls in. */
export function bucketOf(u: number, count: number): number {
  return Math.min(count - 1, Math.max(0, Math.floor(u * count)));
}
