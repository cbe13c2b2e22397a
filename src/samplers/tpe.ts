import type { Assignment } from '../api/parameter.js';
import { Rng } from '../engine/rng.js';
import { type Sampler, type SamplerFactory, SettingsError } from '../engine/sampler.js';
import type { Dimension, SearchSpace } from '../engine/search-space.js';
import { SettingsReader, WITHIN_BUDGET } from '../engine/settings.js';
import { bucketOf, categoryCounts, collectHistory, type History, snap } from './history.js';
import { erfc, logSumExp } from './math.js';
import { bestRows } from './ranking.js';
import { ScrambledSobol } from './sobol.js';

/**
 * Tree-structured Parzen Estimator (Bergstra et al. 2011). Observations are split into the best
 * `gamma` share ("below", at most `maxBelow`) and the rest; each group becomes a kernel mixture
 * on the unit cube with a broad prior component, and the next point is the candidate drawn from
 * the "below" mixture that maximises log l(x) − log g(x). The `multivariate` estimator (Falkner
 * et al. 2018, as in Optuna) mixes product kernels with one Scott-style bandwidth per axis; the
 * `univariate` one models each parameter on its own, every kernel as wide as the gap to its
 * neighbours. `auto` (the default) is multivariate for one objective and univariate for several,
 * where it found better fronts on ZDT and DTLZ2 (bench:multiobjective); a conditional space is
 * always univariate, so an inactive parameter never enters a product.
 *
 * Pending trials and earlier points of the same batch join the "above" group (constant liar with
 * the worst value), which pushes a batch apart.
 */
export interface TpeOptions {
  nStartup: number;
  nCandidates: number;
  /** 0: automatic, by the number of objectives (AUTO_GAMMA). */
  gamma: number;
  maxBelow: number;
  priorWeight: number;
  constantLiar: boolean;
  estimator: 'auto' | 'multivariate' | 'univariate';
}

/**
 * The "below" share when `gamma` is left automatic. A front takes more good points to describe
 * than one optimum: in bench:multiobjective (10 seeds, 0.1 to 0.3 tried) 0.25 and 0.3 found the
 * best DTLZ2 fronts, and 0.25 the better ZDT1 and ZDT2 fronts of the two.
 */
const AUTO_GAMMA = { single: 0.1, multi: 0.25 };

/** A component-by-dimension mixture of truncated Gaussians (numeric) and categorical kernels. */
class Parzen {
  readonly logWeights: number[];
  /** Per observation, per numeric dim, the bandwidth of its kernel. */
  private readonly sigma: number[][];

  constructor(
    private readonly points: number[][],
    weights: number[],
    private readonly counts: number[],
    private readonly priorWeight: number,
    bandwidth: 'scott' | 'neighbour',
  ) {
    const d = counts.length;
    const n = points.length;
    const total = weights.reduce((a, b) => a + b, 0) + priorWeight;
    this.logWeights = [...weights, priorWeight].map((w) => Math.log(w / total));
    // Scott-style rule as in Optuna's multivariate TPE.
    const base = Math.min(1, Math.max(0.01, 0.2 * Math.max(n, 1) ** (-1 / (d + 4))));
    const byAxis = counts.map((k, i) =>
      k > 0 || bandwidth === 'scott'
        ? new Array<number>(n).fill(base)
        : neighbourBandwidths(points.map((p) => p[i] as number)),
    );
    this.sigma = points.map((_, j) => byAxis.map((axis) => axis[j] as number));
  }

  /** Floors the bandwidths of stepped/int numeric dims at half a bucket, so neighbouring values keep some mass. */
  floorSigma(dims: readonly Dimension[]): void {
    dims.forEach((dim, i) => {
      const floor =
        dim.type !== 'categorical' && dim.count !== undefined
          ? 0.5 / dim.count
          : dim.type === 'int'
            ? 0.5 / (dim.max - dim.min + 1)
            : 0;
      for (const s of this.sigma) s[i] = Math.max(s[i] as number, floor);
    });
  }

  private catLogProb(c: number, obs: number | undefined, k: number): number {
    if (obs === undefined) return -Math.log(k);
    const a = this.priorWeight / k;
    return Math.log(((c === obs ? 1 : 0) + a) / (1 + this.priorWeight));
  }

  logPdf(x: readonly number[]): number {
    const n = this.points.length;
    const terms = new Array<number>(n + 1);
    for (let j = 0; j <= n; j++) {
      const p = this.points[j];
      let s = this.logWeights[j] as number;
      for (let i = 0; i < x.length; i++) {
        const k = this.counts[i] as number;
        const xi = x[i] as number;
        if (k > 0) {
          s += this.catLogProb(bucketOf(xi, k), p ? bucketOf(p[i] as number, k) : undefined, k);
        } else {
          const mu = p ? (p[i] as number) : 0.5;
          const sg = p ? (this.sigma[j]![i] as number) : 1;
          s += truncNormLogPdf(xi, mu, sg);
        }
      }
      terms[j] = s;
    }
    return logSumExp(terms);
  }

  sample(rng: Rng): number[] {
    const u = rng.float();
    let acc = 0;
    let j = 0;
    for (; j < this.logWeights.length - 1; j++) {
      acc += Math.exp(this.logWeights[j] as number);
      if (u < acc) break;
    }
    const p = this.points[j]; // undefined → prior component
    return this.counts.map((k, i) => {
      if (k > 0) {
        if (!p) return (rng.int(k) + 0.5) / k;
        const obs = bucketOf(p[i] as number, k);
        const a = this.priorWeight / k;
        let r = rng.float() * (1 + this.priorWeight);
        for (let c = 0; c < k; c++) {
          r -= (c === obs ? 1 : 0) + a;
          if (r < 0) return (c + 0.5) / k;
        }
        return (k - 0.5) / k;
      }
      const mu = p ? (p[i] as number) : 0.5;
      const sg = p ? (this.sigma[j]![i] as number) : 1;
      for (let t = 0; t < 64; t++) {
        const v = mu + sg * rng.normal();
        if (v >= 0 && v < 1) return v;
      }
      return rng.float();
    });
  }
}

/**
 * Each observation's bandwidth on one unit axis (Bergstra et al.'s rule): the wider of the gaps
 * to its neighbours, the prior's centre counting as one; the outermost points take the gap on
 * their inner side. Floored at 1/(n + 2) (never below 1/100), so a tight cluster of good points
 * is searched closely without collapsing onto one value.
 */
export function neighbourBandwidths(mus: readonly number[]): number[] {
  const n = mus.length;
  const order = [...mus.map((v, j) => ({ v, j })), { v: 0.5, j: -1 }].sort((a, b) => a.v - b.v || a.j - b.j);
  const min = 1 / Math.min(100, n + 2);
  const out = new Array<number>(n);
  order.forEach(({ v, j }, r) => {
    if (j < 0) return;
    const left = r > 0 ? v - order[r - 1]!.v : 0;
    const right = r + 1 < order.length ? order[r + 1]!.v - v : 0;
    out[j] = Math.min(1, Math.max(min, left, right));
  });
  return out;
}

function truncNormLogPdf(x: number, mu: number, sigma: number): number {
  const z = (x - mu) / sigma;
  const mass = 0.5 * (erfc(-(1 - mu) / (sigma * Math.SQRT2)) - erfc(mu / (sigma * Math.SQRT2)));
  return -0.5 * z * z - Math.log(sigma * Math.sqrt(2 * Math.PI) * Math.max(mass, 1e-300));
}

/** Optuna's default weights: uniform for the last 25 observations, a ramp for older ones. */
function ageWeights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = n - 25;
  return Array.from({ length: n }, (_, i) =>
    i < ramp ? (ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1)) : 1,
  );
}

export function readTpeOptions(settings: Readonly<Record<string, unknown>>): TpeOptions {
  const r = new SettingsReader(settings, 'algorithm.settings');
  const opts: TpeOptions = {
    nStartup: r.number('nStartup', { default: 10, min: 1, max: 10_000, integer: true }),
    // Each candidate is scored against every observation: ~1 s per point at 1,000 × 2,000 trials.
    nCandidates: r.number('nCandidates', {
      default: 24,
      min: 1,
      max: 1000,
      integer: true,
      maxReason: WITHIN_BUDGET,
    }),
    gamma: r.number('gamma', { default: 0, min: 0, max: 0.5 }),
    maxBelow: r.number('maxBelow', { default: 25, min: 1, max: 10_000, integer: true }),
    priorWeight: r.number('priorWeight', { default: 1, min: 0.01, max: 100 }),
    constantLiar: r.boolean('constantLiar', true),
    estimator: r.choice('estimator', ['auto', 'multivariate', 'univariate'] as const, 'auto'),
  };
  if (opts.gamma > 0 && opts.gamma < 0.01)
    throw new SettingsError(
      'algorithm.settings.gamma',
      `must be 0 (automatic) or >= 0.01, got ${opts.gamma}`,
    );
  r.rejectUnknown();
  return opts;
}

export const createTpeSampler: SamplerFactory = (settings) => {
  const given = readTpeOptions(settings);
  const sampler: Sampler = {
    async suggest(ctx, indices) {
      const { space } = ctx;
      const h = collectHistory(ctx);
      const multi = (ctx.objectives?.length ?? 1) > 1;
      const opts = { ...given, gamma: given.gamma || (multi ? AUTO_GAMMA.multi : AUTO_GAMMA.single) };
      const univariate =
        space.conditional || given.estimator === 'univariate' || (given.estimator === 'auto' && multi);
      const counts = categoryCounts(space);
      const sobol = new ScrambledSobol(space.size, ctx.seed);
      const out: Assignment[] = [];
      // Points of this batch so far, treated like pending trials.
      const batch: number[][] = [];
      for (const index of indices) {
        let a: Assignment | undefined;
        if (h.x.length < opts.nStartup) {
          a = space.fromUnit(sobol.point(index));
        } else {
          const input: TpeInput = {
            h,
            pending: [...h.pending, ...batch],
            rng: new Rng(ctx.seed, 'tpe', index),
          };
          a = (univariate ? univariateTpePoint : tpePoint)(space, counts, opts, input);
        }
        const u = space.toUnit(a);
        batch.push(u);
        h.keys.add(space.key(a));
        out.push(a);
      }
      return out;
    },
  };
  return sampler;
};

interface TpeInput {
  h: History;
  /** Pending trials and this batch's earlier points: the newest "above" points (constantLiar). */
  pending: number[][];
  rng: Rng;
}

/**
 * TPE's split of the finished trials into "below" (good) and "above" (the rest). One objective:
 * by value. Several (MOTPE, as in Optuna): by non-dominated rank, the front that straddles the
 * cut ordered by hypervolume contribution. Infeasible trials always go above; only while no
 * trial is feasible do the least violating ones stand in as "good", so the model first steers
 * towards feasibility.
 */
export function splitBelow(h: History, opts: TpeOptions): { below: number[]; above: number[] } {
  const n = h.x.length;
  const nBelow = Math.min(Math.ceil(opts.gamma * n), opts.maxBelow);
  const multi = (h.ys[0]?.length ?? 1) > 1;
  const order = multi
    ? bestRows(h.ys, h.violation, h.index, nBelow)
    : Array.from({ length: n }, (_, i) => i).sort(
        (a, b) =>
          Number(h.violation[a]! > 0) - Number(h.violation[b]! > 0) ||
          h.violation[a]! - h.violation[b]! ||
          h.y[a]! - h.y[b]! ||
          h.index[a]! - h.index[b]!,
      );
  const feasible = order.filter((i) => h.violation[i] === 0).length;
  const below = order.slice(0, feasible > 0 ? Math.min(nBelow, feasible) : nBelow);
  // The rest, oldest first so the age ramp down-weights old points.
  const above = order.slice(below.length).sort((a, b) => h.index[a]! - h.index[b]!);
  return { below, above };
}

/** splitBelow's split as points, with the age-ramp weights of the "above" ones. */
function splitHistory(
  opts: TpeOptions,
  { h, pending }: TpeInput,
): { below: number[][]; above: number[][]; aboveWeights: number[] } {
  const { below, above } = splitBelow(h, opts);
  const abovePts = above.map((i) => h.x[i] as number[]);
  if (opts.constantLiar) abovePts.push(...pending);
  return {
    below: below.map((i) => h.x[i] as number[]),
    above: abovePts,
    aboveWeights: ageWeights(abovePts.length),
  };
}

function tpePoint(space: SearchSpace, counts: number[], opts: TpeOptions, input: TpeInput): Assignment {
  const { below, above, aboveWeights } = splitHistory(opts, input);
  const { rng } = input;
  const l = new Parzen(below, new Array<number>(below.length).fill(1), counts, opts.priorWeight, 'scott');
  const g = new Parzen(above, aboveWeights, counts, opts.priorWeight, 'scott');
  l.floorSigma(space.dims);
  g.floorSigma(space.dims);
  return bestCandidate(space, opts, rng, input.h.keys, {
    sample: () => l.sample(rng),
    score: (u) => l.logPdf(u) - g.logPdf(u),
  });
}

/**
 * Univariate TPE: one l/g pair per parameter, each fitted only on the trials where that
 * parameter was active (the "below"/"above" split is still over all trials). A candidate is
 * scored on the parameters it activates, so in a conditional space an inactive parameter never
 * enters the model, neither as evidence nor as a coordinate to score.
 */
function univariateTpePoint(
  space: SearchSpace,
  counts: number[],
  opts: TpeOptions,
  input: TpeInput,
): Assignment {
  const { below, above, aboveWeights } = splitHistory(opts, input);
  const activeIn = (u: number[]) => {
    const a = space.fromUnit(u);
    return space.dims.map((d) => a[d.name] !== undefined);
  };
  const belowActive = below.map(activeIn);
  const aboveActive = above.map(activeIn);
  const models = space.dims.map((dim, i) => {
    const pick = (pts: number[][], act: boolean[][]) =>
      pts.flatMap((p, r) => (act[r]?.[i] ? [[p[i] as number]] : []));
    const gWeights = aboveWeights.filter((_, r) => aboveActive[r]?.[i]);
    const l = new Parzen(
      pick(below, belowActive),
      new Array<number>(belowActive.filter((a) => a[i]).length).fill(1),
      [counts[i] as number],
      opts.priorWeight,
      'neighbour',
    );
    const g = new Parzen(
      pick(above, aboveActive),
      gWeights,
      [counts[i] as number],
      opts.priorWeight,
      'neighbour',
    );
    l.floorSigma([dim]);
    g.floorSigma([dim]);
    return { l, g };
  });
  return bestCandidate(space, opts, input.rng, input.h.keys, {
    sample: () => models.map(({ l }) => l.sample(input.rng)[0] as number),
    score: (u) => {
      const active = activeIn(u);
      return models.reduce(
        (s, { l, g }, i) => (active[i] ? s + l.logPdf([u[i] as number]) - g.logPdf([u[i] as number]) : s),
        0,
      );
    },
  });
}

/** The highest-scoring of nCandidates samples that does not repeat a trial. */
function bestCandidate(
  space: SearchSpace,
  opts: TpeOptions,
  rng: Rng,
  keys: Set<string>,
  model: { sample(): number[]; score(u: number[]): number },
): Assignment {
  let best: { score: number; a: Assignment } | undefined;
  let fallback: Assignment | undefined;
  for (let c = 0; c < opts.nCandidates; c++) {
    const u = snap(space, model.sample());
    const a = space.fromUnit(u);
    fallback ??= a;
    if (keys.has(space.key(a))) continue;
    const score = model.score(u);
    if (!best || score > best.score) best = { score, a };
  }
  if (best) return best.a;
  // Every candidate repeats an earlier trial (small discrete spaces): fall back to random points.
  for (let t = 0; t < 64; t++) {
    const a = space.fromUnit(rng.unitVector(space.size));
    if (!keys.has(space.key(a))) return a;
  }
  return fallback as Assignment;
}
