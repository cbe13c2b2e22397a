import type { SamplerContext } from '../engine/sampler.js';
import type { SearchSpace } from '../engine/search-space.js';
import { goalSign, isActive, isFailure } from '../engine/trial-view.js';

/**
 * The history as model-based samplers see it: points on the unit cube (discrete values at the
 * centre of their bucket) and objective values turned into minimisation.
 */
export interface History {
  /** Completed evidence: Succeeded trials, plus Pruned trials with an imputed value. */
  readonly x: number[][];
  readonly y: number[];
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
  const { space } = ctx;
  const sign = goalSign(ctx.goal);
  const trials = [...ctx.trials].sort((a, b) => a.index - b.index);
  const h: History = { x: [], y: [], index: [], pending: [], failed: [], keys: new Set() };
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
      if (t.value !== undefined && Number.isFinite(t.value)) {
        h.x.push(u);
        h.y.push(sign * t.value);
        h.index.push(t.index);
      } else h.failed.push(u);
    } else if (t.state === 'Pruned') {
      // A pruned trial is low-fidelity evidence: it was stopped because it looked worse than
      // its peers. Its last intermediate value stands in for the final one, but never better
      // than the worst completed trial, so a trial stopped early cannot look like the optimum.
      const last = t.intermediate.length > 0 ? t.intermediate[t.intermediate.length - 1]?.value : t.value;
      if (last === undefined || !Number.isFinite(last)) {
        h.failed.push(u);
        continue;
      }
      h.x.push(u);
      h.y.push(Number.isFinite(worst) ? Math.max(sign * last, worst) : sign * last);
      h.index.push(t.index);
    } else if (isFailure(t)) {
      h.failed.push(u);
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
