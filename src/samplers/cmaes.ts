import type { Assignment } from '../api/parameter.js';
import { Rng } from '../engine/rng.js';
import type { Sampler, SamplerFactory } from '../engine/sampler.js';
import { SettingsError } from '../engine/sampler.js';
import type { SearchSpace } from '../engine/search-space.js';
import { SettingsReader } from '../engine/settings.js';
import { collectHistory } from './history.js';

/**
 * CMA-ES (Hansen's (μ/μ_w, λ) scheme with rank-one and rank-μ updates) on the unit cube.
 *
 * The sampler keeps no state: every call replays the generations from the history. Generation g
 * is the trials with indices [gλ, (g+1)λ); once all of them are finished the distribution is
 * updated from the points actually evaluated (snapped ints included), ranked by value, failed
 * trials last. Trials of a generation that is not complete yet are drawn from the current
 * distribution with a stream seeded by (seed, generation, slot), so the same history always
 * gives the same points.
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

/** One CMA-ES update from evaluated points (unit cube) and their values (minimised). */
function update(s: CmaState, xs: number[][], ys: number[], lambda: number): void {
  const n = s.mean.length;
  const mu = Math.floor(lambda / 2);
  const order = xs.map((_, i) => i).sort((a, b) => ys[a]! - ys[b]! || a - b);
  const finite = order.filter((i) => Number.isFinite(ys[i]!));
  if (finite.length === 0) {
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
      const { space } = ctx;
      const h = collectHistory(ctx);
      const byIndex = new Map<number, { x: number[]; y: number }>();
      h.index.forEach((idx, r) => byIndex.set(idx, { x: h.x[r]!, y: h.y[r]! }));
      const finished = new Map<number, number[]>(); // failed trials: value +∞
      for (const t of ctx.trials) if (!byIndex.has(t.index)) finished.set(t.index, space.toUnit(t.params));
      const pendingIdx = new Set(
        ctx.trials.filter((t) => t.state === 'Pending' || t.state === 'Running').map((t) => t.index),
      );
      const state = initialState(space.size, opts.sigma0);
      // Replay every complete generation in order.
      for (;;) {
        const g = state.gen;
        const xs: number[][] = [];
        const ys: number[] = [];
        let complete = true;
        for (let k = 0; k < lambda; k++) {
          const i = g * lambda + k;
          const obs = byIndex.get(i);
          if (obs) {
            xs.push(obs.x);
            ys.push(obs.y);
          } else if (finished.has(i) && !pendingIdx.has(i)) {
            xs.push(finished.get(i)!);
            ys.push(Infinity);
          } else {
            complete = false;
            break;
          }
        }
        if (!complete) break;
        update(state, xs, ys, lambda);
      }
      return indices.map((i) => samplePoint(space, state, ctx.seed, i, lambda, h.keys));
    },
  };
  return sampler;
};

function samplePoint(
  space: SearchSpace,
  state: CmaState,
  seed: number,
  index: number,
  lambda: number,
  keys: Set<string>,
): Assignment {
  const rng = new Rng(seed, 'cmaes', Math.floor(index / lambda), index % lambda);
  let last: Assignment | undefined;
  // Resample until inside the cube and not a repeat (ints can collide), then give up and clamp.
  for (let t = 0; t < 100; t++) {
    const x = sample(state, rng);
    const inside = x.every((v) => v >= 0 && v < 1);
    const a = space.fromUnit(x);
    last = a;
    if (inside && !keys.has(space.key(a))) {
      keys.add(space.key(a));
      return a;
    }
  }
  const a = last as Assignment;
  keys.add(space.key(a));
  return a;
}
