import type { Assignment } from '../api/parameter.js';
import { Rng } from '../engine/rng.js';
import type { Sampler, SamplerFactory } from '../engine/sampler.js';
import type { SearchSpace } from '../engine/search-space.js';
import { SettingsReader, WITHIN_BUDGET } from '../engine/settings.js';
import type { GpHyper, Prediction } from './gp.js';
import { fitHyper, GpPosterior } from './gp.js';
import type { History } from './history.js';
import { FeasibilityModel } from './feasibility-model.js';
import { bucketOf, categoryCounts, collectHistory, snap } from './history.js';
import { logEI } from './math.js';
import { ScrambledSobol } from './sobol.js';

/**
 * GP-based Bayesian optimisation, the default algorithm.
 *
 * - Initial design: the first `nInitial` trials (default max(5, d + 2): enough to fit d
 *   lengthscales roughly, few enough to leave budget to the model) are scrambled Sobol points.
 * - Model: Matérn 5/2 ARD GP (gp.ts) on standardised, log-warped outputs (a monotone warp that
 *   tames heavy tails such as Rosenbrock's), hyperparameters by MAP with weak priors (L-BFGS,
 *   analytic gradients, two starts) on at most `fitObservations` points.
 * - Acquisition: log expected improvement, maximised over `nCandidates` Sobol points (snapped
 *   to valid values), then refined by a seeded local search around the best candidates and the
 *   incumbent, always evaluating snapped points so ints, steps and categories are respected.
 * - Constraints: a GP per constraint gives the probability of feasibility, which multiplies EI
 *   (feasibility-model.ts); EI is measured from the best feasible trial, and until one exists
 *   the acquisition is the probability of feasibility alone.
 * - Failed trials are not modelled (we do not know how good they were), but candidates within
 *   1% of the cube of a failed point are skipped, so a crash is not retried at once.
 * - Pruned trials are imputed in history.ts (last intermediate value, never better than the
 *   worst completed trial).
 * - Pending trials and earlier points of the same batch are kriging-believer fantasies: the
 *   posterior variance collapses around them, so a batch spreads out.
 * - Above `maxObservations`, the model is fitted on the best half (by rank) plus the most recent
 *   points, a trust region of sorts that keeps a suggestion well under a second at 1,000 trials.
 * - Several objectives: ParEGO (Knowles 2006). Each trial index draws its own random weights,
 *   the objectives become one augmented Chebyshev scalarisation of them, and the steps above
 *   run on that, so successive trials aim at different parts of the Pareto front. A batch fits
 *   the kernel once and builds one posterior per point.
 */
export interface BayesianOptions {
  nInitial: number;
  nCandidates: number;
  maxObservations: number;
  fitObservations: number;
  outputWarp: 'log' | 'none';
  localSteps: number;
}

const bounded = (rule: { default: number; min: number; max: number }) => ({
  ...rule,
  integer: true,
  maxReason: WITHIN_BUDGET,
});

export function readBayesianOptions(settings: Readonly<Record<string, unknown>>): BayesianOptions {
  const r = new SettingsReader(settings, 'algorithm.settings');
  const opts: BayesianOptions = {
    // 0 = automatic: max(5, d + 2).
    nInitial: r.number('nInitial', { default: 0, min: 0, max: 10_000, integer: true }),
    // The maxima keep the slowest combination (with 2,000 trials of history) near 2 s for one
    // point on a busy core: model fit ~ fitObservations³, candidates ~ nCandidates ×
    // maxObservations², local search ~ localSteps × maxObservations² per point of a batch.
    nCandidates: r.number('nCandidates', bounded({ default: 2000, min: 10, max: 5000 })),
    maxObservations: r.number('maxObservations', bounded({ default: 300, min: 10, max: 500 })),
    fitObservations: r.number('fitObservations', bounded({ default: 100, min: 5, max: 200 })),
    outputWarp: r.choice('outputWarp', ['log', 'none'] as const, 'log'),
    localSteps: r.number('localSteps', bounded({ default: 30, min: 0, max: 200 })),
  };
  r.rejectUnknown();
  return opts;
}

/** Best `size/2` by value plus the most recent, topped up by rank; indices into the history. */
export function subsetIndices(y: readonly number[], size: number): number[] {
  const n = y.length;
  if (n <= size) return Array.from({ length: n }, (_, i) => i);
  const byRank = Array.from({ length: n }, (_, i) => i).sort((a, b) => y[a]! - y[b]! || a - b);
  const chosen = new Set(byRank.slice(0, Math.ceil(size / 2)));
  for (let i = n - 1; i >= 0 && chosen.size < size; i--) chosen.add(i);
  return [...chosen].sort((a, b) => a - b);
}

/** Standardised targets after the optional log warp. */
export function transformTargets(y: readonly number[], warp: 'log' | 'none'): Float64Array {
  let v = [...y];
  if (warp === 'log' && v.length > 2) {
    const min = Math.min(...v);
    const shifted = v.map((t) => t - min).sort((a, b) => a - b);
    const med = shifted[Math.floor(shifted.length / 2)]!;
    const scale = med > 0 ? med : Math.max(shifted.at(-1)!, 1e-12);
    v = v.map((t) => Math.log1p((t - min) / scale));
  }
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  const s = sd > 1e-12 ? sd : 1;
  return Float64Array.from(v, (t) => (t - mean) / s);
}

export const createBayesianSampler: SamplerFactory = (settings, space) => {
  const opts = readBayesianOptions(settings);
  const nInitial = opts.nInitial || Math.max(5, space.size + 2);
  const sampler: Sampler = {
    async suggest(ctx, indices) {
      const { space } = ctx;
      const h = collectHistory(ctx);
      const sobol = new ScrambledSobol(space.size, ctx.seed);
      const out: Assignment[] = [];
      if (h.x.length < nInitial) {
        for (const i of indices) out.push(space.fromUnit(sobol.point(i)));
        return out;
      }
      const feasibility = FeasibilityModel.fit(ctx, h, categoryCounts(space), opts.fitObservations);
      if ((h.ys[0]?.length ?? 1) > 1) return paregoBatch(space, h, opts, ctx.seed, indices, feasibility);
      const planner = new BatchPlanner(space, h, opts, ctx.seed, indices[0] ?? 0, feasibility);
      for (const index of indices) out.push(planner.next(index));
      return out;
    },
  };
  return sampler;
};

/**
 * ParEGO over a batch, one scalarisation per point. The first point fits the kernel and the
 * others reuse it on their own scalarisation (same inputs, standardised outputs): a batch of n
 * costs one fit and n posteriors rather than n fits.
 */
function paregoBatch(
  space: SearchSpace,
  h: History,
  opts: BayesianOptions,
  seed: number,
  indices: readonly number[],
  feasibility: FeasibilityModel | undefined,
): Assignment[] {
  const out: Assignment[] = [];
  let hyper: GpHyper | undefined;
  for (const index of indices) {
    const scalarised = { ...h, y: chebyshev(h.ys, simplexWeights(seed, index, h.ys[0]!.length)) };
    const planner = new BatchPlanner(space, scalarised, opts, seed, index, feasibility, hyper);
    hyper ??= planner.hyper;
    const a = planner.next(index);
    out.push(a);
    // Later points of the batch take this one as pending, a kriging-believer fantasy.
    h.pending.push(space.toUnit(a));
  }
  return out;
}

/** A random direction for ParEGO, uniform on the simplex (normalised exponentials). */
function simplexWeights(seed: number, index: number, m: number): number[] {
  const rng = new Rng(seed, 'parego', index);
  const e = Array.from({ length: m }, () => -Math.log(1 - rng.float()));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

/**
 * Knowles's augmented Chebyshev scalarisation (ParEGO, 2006): each objective rescaled to [0, 1]
 * over the history, then max_k w_k f_k + 0.05 Σ_k w_k f_k. The max term reaches every point of
 * a concave front, which a weighted sum cannot; the small sum term breaks ties between weakly
 * dominated points.
 */
function chebyshev(ys: readonly (readonly number[])[], w: readonly number[]): number[] {
  const lo = w.map((_, k) => ys.reduce((m, y) => Math.min(m, y[k]!), Infinity));
  const hi = w.map((_, k) => ys.reduce((m, y) => Math.max(m, y[k]!), -Infinity));
  return ys.map((y) => {
    let max = -Infinity;
    let sum = 0;
    w.forEach((wk, k) => {
      const f = (wk * (y[k]! - lo[k]!)) / (hi[k]! - lo[k]! || 1);
      max = Math.max(max, f);
      sum += f;
    });
    return max + 0.05 * sum;
  });
}

class BatchPlanner {
  /** The kernel hyperparameters the model was built with (fitted, or given). */
  readonly hyper: GpHyper;
  private readonly gp: GpPosterior;
  private readonly counts: number[];
  /** Best feasible standardised value; undefined while no modelled trial is feasible. */
  private readonly best: number | undefined;
  private readonly incumbent: number[];
  /** Candidates with their prediction and log probability of feasibility (0 without constraints). */
  private readonly cands: { x: number[]; pred: Prediction; logPof: number }[] = [];

  constructor(
    private readonly space: SearchSpace,
    private readonly h: History,
    private readonly opts: BayesianOptions,
    private readonly seed: number,
    firstIndex: number,
    private readonly feasibility: FeasibilityModel | undefined,
    hyper?: GpHyper,
  ) {
    this.counts = categoryCounts(space);
    const sub = subsetIndices(h.y, opts.maxObservations);
    const x = sub.map((i) => h.x[i]!);
    const y = transformTargets(
      sub.map((i) => h.y[i]!),
      opts.outputWarp,
    );
    const fitSub = subsetIndices(
      sub.map((i) => h.y[i]!),
      opts.fitObservations,
    );
    this.hyper =
      hyper ??
      fitHyper(
        fitSub.map((i) => x[i]!),
        Float64Array.from(fitSub, (i) => y[i]!),
        this.counts,
      );
    this.gp = new GpPosterior(x, y, this.hyper, this.counts);
    // The incumbent is the best feasible trial; with none yet, the one closest to feasible.
    const violation = sub.map((i) => h.violation[i]!);
    let bi = 0;
    for (let i = 1; i < y.length; i++)
      if (violation[i]! < violation[bi]! || (violation[i] === violation[bi] && y[i]! < y[bi]!)) bi = i;
    this.best = violation[bi] === 0 ? y[bi]! : undefined;
    this.incumbent = x[bi]!;
    for (const p of h.pending) this.gp.addFantasy(p);
    // One candidate set per batch (seeded by its first index), updated as fantasies are added.
    const sobol = new ScrambledSobol(space.size, this.seed ^ 0x5bd1e995 ^ firstIndex);
    const seen = new Set<string>();
    for (let i = 0; i < opts.nCandidates; i++) {
      const u = snap(space, sobol.point(i));
      const key = space.key(space.fromUnit(u));
      if (seen.has(key)) continue;
      seen.add(key);
      this.cands.push({ x: u, pred: this.gp.predict(u), logPof: this.logPof(u) });
    }
  }

  private logPof(u: readonly number[]): number {
    return this.feasibility?.logProbability(u) ?? 0;
  }

  /** log EI weighted by the probability of feasibility; only the latter until a trial is feasible. */
  private score(p: Prediction, logPof: number): number {
    if (this.best === undefined) return logPof;
    return logEI(p.mu, Math.sqrt(p.variance), this.best) + logPof;
  }

  private allowed(u: number[]): boolean {
    if (this.h.keys.has(this.space.key(this.space.fromUnit(u)))) return false;
    return !this.h.failed.some((f) =>
      f.every((v, i) => {
        const k = this.counts[i]!;
        return k > 0 ? bucketOf(v, k) === bucketOf(u[i]!, k) : Math.abs(v - u[i]!) < 0.01;
      }),
    );
  }

  next(index: number): Assignment {
    const rng = new Rng(this.seed, 'bayesian', index);
    const ranked = this.cands
      .map((c, i) => ({ i, s: this.score(c.pred, c.logPof) }))
      .sort((a, b) => b.s - a.s || a.i - b.i);
    const starts: number[][] = [];
    for (const r of ranked) {
      if (starts.length >= 5) break;
      const c = this.cands[r.i]!;
      if (this.allowed(c.x)) starts.push(c.x);
    }
    starts.push(this.incumbent);
    let best: { x: number[]; s: number } | undefined;
    for (const s0 of starts) {
      const r = this.refine(s0, rng);
      if (r && (!best || r.s > best.s)) best = r;
    }
    const chosen = best?.x ?? this.fallback(rng);
    this.gp.addFantasy(chosen, this.cands);
    const a = this.space.fromUnit(chosen);
    this.h.keys.add(this.space.key(a));
    return a;
  }

  /** Seeded local search: Gaussian moves on numeric axes, occasional category switches. */
  private refine(x0: number[], rng: Rng): { x: number[]; s: number } | undefined {
    let x = x0;
    let s = this.allowed(x) ? this.score(this.gp.predict(x), this.logPof(x)) : -Infinity;
    let step = 0.05;
    const d = x.length;
    for (let t = 0; t < this.opts.localSteps; t++) {
      const y = x.map((v, i) => {
        const k = this.counts[i]!;
        if (k > 0) return rng.float() < 1 / d ? (rng.int(k) + 0.5) / k : v;
        return rng.float() < Math.max(0.5, 2 / d)
          ? Math.min(1 - 1e-9, Math.max(0, v + step * rng.normal()))
          : v;
      });
      const u = snap(this.space, y);
      if (!this.allowed(u)) {
        step *= 0.7;
        continue;
      }
      const su = this.score(this.gp.predict(u), this.logPof(u));
      if (su > s) {
        x = u;
        s = su;
        step *= 1.3;
      } else step *= 0.7;
      step = Math.min(0.3, Math.max(1e-4, step));
    }
    return Number.isFinite(s) ? { x, s } : undefined;
  }

  private fallback(rng: Rng): number[] {
    for (let t = 0; t < 1000; t++) {
      const u = snap(this.space, rng.unitVector(this.space.size));
      if (this.allowed(u)) return u;
    }
    return snap(this.space, rng.unitVector(this.space.size));
  }
}
