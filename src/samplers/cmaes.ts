import type { Assignment } from '../api/parameter.js';
import { Rng } from '../engine/rng.js';
import type { Sampler, SamplerContext, SamplerFactory } from '../engine/sampler.js';
import { SettingsError } from '../engine/sampler.js';
import type { SearchSpace } from '../engine/search-space.js';
import { SettingsReader } from '../engine/settings.js';
import { isActive } from '../engine/trial-view.js';
import { collectHistory, type History } from './history.js';

/**
 * CMA-ES (Hansen's (μ/μ_w, λ) scheme with rank-one and rank-μ updates) on the unit cube.
 *
 * The sampler keeps no state: every call replays the generations from the history. A generation
 * is the next λ results that were told (finished trials in index order, whatever their index),
 * and each new trial is drawn from the distribution after the last complete generation, so a
 * trial never waits on an index block that running trials keep open. The update uses the points
 * actually evaluated (snapped ints included), ranked by value; failed trials rank below every
 * result and never get recombination weight.
 */
export interface CmaOptions {
  popsize: number;
  sigma0: number;
}

interface CmaState {
  mean: number[];
  sigma: number;
  c: number[][];
  pc: number[];
  ps: number[];
  b: number[][];
  dd: number[];
  gen: number;
}

export function readCmaOptions(settings: Readonly<Record<string, unknown>>, d: number): CmaOptions {
  const r = new SettingsReader(settings, 'algorithm.settings');
  const opts = {
    popsize: r.number('popsize', {
      default: 4 + Math.floor(3 * Math.log(Math.max(d, 1))),
      min: 2,
      max: 10_000,
      integer: true,
    }),
    sigma0: r.number('sigma0', { default: 1 / 6, min: 1e-6, max: 1 }),
  };
  r.rejectUnknown();
  return opts;
}

/** Jacobi eigendecomposition of a small symmetric matrix: C = B diag(values) Bᵀ. */
export function symEig(c: number[][]): { values: number[]; vectors: number[][] } {
  const n = c.length;
  const a = c.map((row) => [...row]);
  const v: number[][] = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)),
  );
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p]![q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = a[p]![q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const cs = 1 / Math.sqrt(t * t + 1);
        const sn = t * cs;
        for (let k = 0; k < n; k++) {
          const akp = a[k]![p]!;
          const akq = a[k]![q]!;
          a[k]![p] = cs * akp - sn * akq;
          a[k]![q] = sn * akp + cs * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]![k]!;
          const aqk = a[q]![k]!;
          a[p]![k] = cs * apk - sn * aqk;
          a[q]![k] = sn * apk + cs * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = cs * vkp - sn * vkq;
          v[k]![q] = sn * vkp + cs * vkq;
        }
      }
  }
  return { values: a.map((row, i) => row[i]!), vectors: v };
}

function initialState(d: number, sigma0: number): CmaState {
  const eye = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 1 : 0)));
  return {
    mean: new Array<number>(d).fill(0.5),
    sigma: sigma0,
    c: eye.map((r) => [...r]),
    pc: new Array<number>(d).fill(0),
    ps: new Array<number>(d).fill(0),
    b: eye,
    dd: new Array<number>(d).fill(1),
    gen: 0,
  };
}

/**
 * One CMA-ES update from a generation's points (unit cube) and values (minimised; +∞ = failed).
 * Recombination uses the best min(μ, successes) points, so a failed point never gets weight.
 */
function update(s: CmaState, xs: number[][], ys: number[], lambda: number): void {
  const n = s.mean.length;
  const order = xs
    .map((_, i) => i)
    .filter((i) => Number.isFinite(ys[i]!))
    .sort((a, b) => ys[a]! - ys[b]! || a - b);
  const mu = Math.min(Math.floor(lambda / 2), order.length);
  if (mu === 0) {
    s.gen++;
    return;
  }
  const raw = Array.from({ length: mu }, (_, i) => Math.log((lambda + 1) / 2) - Math.log(i + 1));
  const sum = raw.reduce((a, b) => a + b, 0);
  const w = raw.map((v) => v / sum);
  const mueff = 1 / w.reduce((a, b) => a + b * b, 0);
  const cs = (mueff + 2) / (n + mueff + 5);
  const ds = 1 + 2 * Math.max(0, Math.sqrt((mueff - 1) / (n + 1)) - 1) + cs;
  const cc = (4 + mueff / n) / (n + 4 + (2 * mueff) / n);
  const c1 = 2 / ((n + 1.3) ** 2 + mueff);
  const cmu = Math.min(1 - c1, (2 * (mueff - 2 + 1 / mueff)) / ((n + 2) ** 2 + mueff));
  const chiN = Math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));

  const sel = order.slice(0, mu).map((i) => xs[i]!.map((v, k) => (v - s.mean[k]!) / s.sigma));
  const yw = new Array<number>(n).fill(0);
  sel.forEach((y, i) => y.forEach((v, k) => (yw[k]! += w[i]! * v)));
  s.mean = s.mean.map((m, k) => m + s.sigma * yw[k]!);
  // C^{-1/2} yw = B D^{-1} Bᵀ yw
  const bt = s.b[0]!.map((_, j) => s.b.reduce((a, row, k) => a + row[j]! * yw[k]!, 0) / s.dd[j]!);
  const cInvHalf = s.b.map((row) => row.reduce((a, v, j) => a + v * bt[j]!, 0));
  const kS = Math.sqrt(cs * (2 - cs) * mueff);
  s.ps = s.ps.map((p, k) => (1 - cs) * p + kS * cInvHalf[k]!);
  const psNorm = Math.sqrt(s.ps.reduce((a, v) => a + v * v, 0));
  const hs = psNorm / Math.sqrt(1 - (1 - cs) ** (2 * (s.gen + 1))) < (1.4 + 2 / (n + 1)) * chiN ? 1 : 0;
  const kC = Math.sqrt(cc * (2 - cc) * mueff);
  s.pc = s.pc.map((p, k) => (1 - cc) * p + hs * kC * yw[k]!);
  const decay = 1 - c1 - cmu + (1 - hs) * c1 * cc * (2 - cc);
  s.c = s.c.map((row, i) =>
    row.map((v, j) => {
      let rmu = 0;
      sel.forEach((y, l) => (rmu += w[l]! * y[i]! * y[j]!));
      return decay * v + c1 * s.pc[i]! * s.pc[j]! + cmu * rmu;
    }),
  );
  s.sigma = Math.min(1, Math.max(1e-8, s.sigma * Math.exp((cs / ds) * (psNorm / chiN - 1))));
  const { values, vectors } = symEig(s.c);
  s.dd = values.map((v) => Math.sqrt(Math.max(v, 1e-20)));
  s.b = vectors;
  s.gen++;
}

function sample(s: CmaState, rng: Rng): number[] {
  const n = s.mean.length;
  const z = Array.from({ length: n }, () => rng.normal() * 1);
  const dz = z.map((v, j) => v * s.dd[j]!);
  return s.mean.map((m, i) => m + s.sigma * s.b[i]!.reduce((a, v, j) => a + v * dz[j]!, 0));
}

export const createCmaesSampler: SamplerFactory = (settings, space) => {
  const categorical = space.dims.filter((d) => d.type === 'categorical').map((d) => d.name);
  if (categorical.length > 0) {
    throw new SettingsError(
      'algorithm.name',
      `cmaes needs continuous (double/int) parameters, but ${categorical.join(', ')} ${categorical.length > 1 ? 'are' : 'is'} categorical; use tpe or bayesian for mixed spaces`,
    );
  }
  const opts = readCmaOptions(settings, space.size);
  const lambda = opts.popsize;
  const sampler: Sampler = {
    async suggest(ctx, indices) {
      const h = collectHistory(ctx);
      const state = replay(ctx, h, opts.sigma0, lambda);
      const keys = h.keys;
      return indices.map((i) => {
        const a = drawPoint(ctx.space, state, ctx.seed, i, keys);
        keys.add(ctx.space.key(a));
        return a;
      });
    },
  };
  return sampler;
};

/**
 * The distribution after every complete generation: finished trials (failed ones included) in
 * index order, λ at a time. Running trials are skipped, so a slow trial never holds back an
 * update that λ other results already allow.
 */
function replay(ctx: SamplerContext, h: History, sigma0: number, lambda: number): CmaState {
  const { space } = ctx;
  const values = new Map(h.index.map((idx, r) => [idx, h.y[r]!]));
  const state = initialState(space.size, sigma0);
  let xs: number[][] = [];
  let ys: number[] = [];
  for (const t of [...ctx.trials].sort((a, b) => a.index - b.index)) {
    if (isActive(t)) continue;
    // An inactive parameter sits at the mean, so it pulls neither the mean nor the covariance.
    xs.push(space.toUnit(t.params, state.mean));
    ys.push(values.get(t.index) ?? Infinity);
    if (xs.length < lambda) continue;
    update(state, xs, ys, lambda);
    xs = [];
    ys = [];
  }
  return state;
}

/**
 * A point from the distribution, from a stream seeded by (seed, generation, index): resampled
 * until inside the cube and not a repeat of `taken` (ints can collide), then clamped.
 */
function drawPoint(
  space: SearchSpace,
  state: CmaState,
  seed: number,
  index: number,
  taken: ReadonlySet<string>,
): Assignment {
  const rng = new Rng(seed, 'cmaes', state.gen, index);
  let last: Assignment | undefined;
  for (let t = 0; t < 100; t++) {
    const x = sample(state, rng);
    const a = space.fromUnit(x);
    last = a;
    if (x.every((v) => v >= 0 && v < 1) && !taken.has(space.key(a))) return a;
  }
  return last as Assignment;
}
