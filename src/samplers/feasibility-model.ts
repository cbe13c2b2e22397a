import type { ConstraintView } from '../engine/feasibility.js';
import type { SamplerContext } from '../engine/sampler.js';
import { fitHyper, GpPosterior } from './gp.js';
import type { History } from './history.js';
import { normCdf } from './math.js';

/** log Φ(z) that stays finite far in the lower tail, where Φ underflows. */
function logNormCdf(z: number): number {
  if (z > -6) return Math.log(Math.max(normCdf(z), 1e-300));
  return -0.5 * z * z - Math.log(-z) - 0.5 * Math.log(2 * Math.PI);
}

interface ConstraintGp {
  gp: GpPosterior;
  /** Where the bound sits on the standardised scale the GP was fitted on. */
  threshold: number;
}

/**
 * Probability of feasibility (Gardner et al. 2014): one GP per constraint on its signed slack
 * (metric − max, or min − metric; feasible at or below 0), fitted on the trials that reported
 * the metric. A point's log probability of meeting every bound is the sum over the
 * constraints, as if they were independent; the Bayesian sampler adds it to log EI.
 */
export class FeasibilityModel {
  private constructor(private readonly models: ConstraintGp[]) {}

  /** Undefined when the study has no constraints, or too few reports to model any. */
  static fit(
    ctx: SamplerContext,
    h: History,
    counts: readonly number[],
    maxRows: number,
  ): FeasibilityModel | undefined {
    const constraints = ctx.constraints ?? [];
    if (constraints.length === 0) return undefined;
    const byIndex = new Map(ctx.trials.map((t) => [t.index, t]));
    const models: ConstraintGp[] = [];
    for (const c of constraints) {
      const x: number[][] = [];
      const s: number[] = [];
      h.index.forEach((trialIndex, row) => {
        const v = byIndex.get(trialIndex)?.metrics?.[c.metric];
        if (v === undefined || !Number.isFinite(v)) return;
        x.push(h.x[row] as number[]);
        s.push(slack(c, v));
      });
      // The most recent reports when there are many, to bound the cubic fit.
      const keep = Math.max(0, x.length - maxRows);
      const model = fitSlack(x.slice(keep), s.slice(keep), counts);
      if (model) models.push(model);
    }
    return models.length > 0 ? new FeasibilityModel(models) : undefined;
  }

  logProbability(u: readonly number[]): number {
    let total = 0;
    for (const { gp, threshold } of this.models) {
      const p = gp.predict(u as number[]);
      total += logNormCdf((threshold - p.mu) / Math.sqrt(Math.max(p.variance, 1e-12)));
    }
    return total;
  }
}

function slack(c: ConstraintView, v: number): number {
  return c.max !== undefined ? v - c.max : (c.min as number) - v;
}

function fitSlack(x: number[][], s: number[], counts: readonly number[]): ConstraintGp | undefined {
  if (x.length < 2) return undefined;
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / s.length) || 1;
  const y = Float64Array.from(s, (v) => (v - mean) / sd);
  const gp = new GpPosterior(x, y, fitHyper(x, y, counts), counts);
  return { gp, threshold: (0 - mean) / sd };
}
