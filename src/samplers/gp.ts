/**
 * A compact Gaussian process for Bayesian optimisation on the unit cube.
 *
 * Kernel: Matérn 5/2 with one lengthscale per dimension (ARD). Numeric dimensions use the
 * coordinate difference; a categorical dimension contributes a Hamming term (0 when two points
 * share the category, 1 otherwise) divided by its own lengthscale, so the kernel stays positive
 * definite and categories are exchangeable.
 *
 * Linear algebra is hand-written on Float64Array (row-major, lower Cholesky): at the sizes a
 * sampler sees (≤ a few hundred points) this is faster than a general matrix library, because
 * nothing is allocated per element, and it is the hot path of every suggestion.
 */
import { bucketOf } from './history.js';

const SQRT5 = Math.sqrt(5);
const LOG_2PI = Math.log(2 * Math.PI);

export interface GpHyper {
  /** log lengthscales, one per dimension. */
  logLs: number[];
  /** log signal variance. */
  logSf2: number;
  /** log noise variance. */
  logSn2: number;
}

/** Per-dimension squared distance between two unit-cube points. */
export function dimDist2(
  a: readonly number[],
  b: readonly number[],
  i: number,
  counts: readonly number[],
): number {
  const k = counts[i] as number;
  if (k > 0) return bucketOf(a[i] as number, k) === bucketOf(b[i] as number, k) ? 0 : 1;
  const t = (a[i] as number) - (b[i] as number);
  return t * t;
}

export function matern52(r2: number, sf2: number): number {
  const s = SQRT5 * Math.sqrt(r2);
  return sf2 * (1 + s + (s * s) / 3) * Math.exp(-s);
}

/** In-place lower Cholesky of an n×n SPD matrix; returns false if not positive definite. */
export function cholesky(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let s = a[rj + j] as number;
    for (let k = 0; k < j; k++) s -= (a[rj + k] as number) ** 2;
    if (!(s > 0)) return false;
    const d = Math.sqrt(s);
    a[rj + j] = d;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let t = a[ri + j] as number;
      for (let k = 0; k < j; k++) t -= (a[ri + k] as number) * (a[rj + k] as number);
      a[ri + j] = t / d;
    }
    for (let i = 0; i < j; i++) a[i * n + j] = 0;
  }
  return true;
}

/** Solves L x = b (forward substitution) into out. */
export function solveLower(
  l: Float64Array,
  n: number,
  b: ArrayLike<number>,
  out: Float64Array,
): Float64Array {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let s = b[i] as number;
    for (let k = 0; k < i; k++) s -= (l[ri + k] as number) * (out[k] as number);
    out[i] = s / (l[ri + i] as number);
  }
  return out;
}

/** Solves Lᵀ x = b (back substitution) into out. */
export function solveUpper(
  l: Float64Array,
  n: number,
  b: ArrayLike<number>,
  out: Float64Array,
): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i] as number;
    for (let k = i + 1; k < n; k++) s -= (l[k * n + i] as number) * (out[k] as number);
    out[i] = s / (l[i * n + i] as number);
  }
  return out;
}

/** Kernel matrix plus noise, factorised; adds jitter when needed. Returns L or undefined. */
function factor(k: Float64Array, n: number, sn2: number): Float64Array | undefined {
  for (let jitter = 1e-9; jitter < 1; jitter *= 100) {
    const a = Float64Array.from(k);
    for (let i = 0; i < n; i++) a[i * n + i] = (a[i * n + i] as number) + sn2 + jitter;
    if (cholesky(a, n)) return a;
  }
  return undefined;
}

export interface Prediction {
  mu: number;
  variance: number;
  /** L⁻¹ k(X, x): reused when the same point later gets fantasy updates. */
  v: Float64Array;
  /** Components along the fantasy points added so far (incremental Cholesky extension). */
  e: number[];
}

interface Fantasy {
  x: number[];
  v: Float64Array;
  e: number[];
  /** sqrt(posterior variance at x + noise) when it was added. */
  d: number;
}

/**
 * A GP posterior with fixed hyperparameters on standardised targets (zero prior mean).
 * Fantasies (kriging believer) add points whose observed value equals the current posterior
 * mean: the mean is unchanged everywhere and only the variance shrinks, which is what makes a
 * batch spread out. They are added with an incremental Cholesky extension, O(n) per point.
 */
export class GpPosterior {
  readonly n: number;
  private readonly l: Float64Array;
  private readonly alpha: Float64Array;
  private readonly ls2: number[];
  readonly sf2: number;
  readonly sn2: number;
  private readonly fantasies: Fantasy[] = [];

  constructor(
    readonly x: readonly number[][],
    y: ArrayLike<number>,
    readonly hyper: GpHyper,
    readonly counts: readonly number[],
  ) {
    const n = x.length;
    this.n = n;
    this.ls2 = hyper.logLs.map((v) => Math.exp(2 * v));
    this.sf2 = Math.exp(hyper.logSf2);
    this.sn2 = Math.exp(hyper.logSn2);
    const k = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) {
        const v = this.kernel(x[i] as number[], x[j] as number[]);
        k[i * n + j] = v;
        k[j * n + i] = v;
      }
    const l = factor(k, n, this.sn2);
    if (!l) throw new Error('GP kernel matrix is not positive definite');
    this.l = l;
    const tmp = solveLower(l, n, y, new Float64Array(n));
    this.alpha = solveUpper(l, n, tmp, new Float64Array(n));
  }

  kernel(a: readonly number[], b: readonly number[]): number {
    let r2 = 0;
    for (let i = 0; i < a.length; i++) r2 += dimDist2(a, b, i, this.counts) / (this.ls2[i] as number);
    return matern52(r2, this.sf2);
  }

  predict(x: readonly number[]): Prediction {
    const n = this.n;
    const kx = new Float64Array(n);
    let mu = 0;
    for (let i = 0; i < n; i++) {
      const kv = this.kernel(x, this.x[i] as number[]);
      kx[i] = kv;
      mu += kv * (this.alpha[i] as number);
    }
    const v = solveLower(this.l, n, kx, new Float64Array(n));
    let variance = this.sf2;
    for (let i = 0; i < n; i++) variance -= (v[i] as number) ** 2;
    const pred: Prediction = { mu, variance, v, e: [] };
    for (let j = 0; j < this.fantasies.length; j++) this.extend(pred, x, j);
    pred.variance = Math.max(pred.variance, 1e-12);
    return pred;
  }

  /** Projects a prediction on fantasy j (all earlier fantasies already applied). */
  private extend(pred: Prediction, x: readonly number[], j: number): void {
    const f = this.fantasies[j] as Fantasy;
    let c = this.kernel(x, f.x);
    for (let i = 0; i < this.n; i++) c -= (pred.v[i] as number) * (f.v[i] as number);
    for (let i = 0; i < j; i++) c -= (pred.e[i] as number) * (f.e[i] as number);
    const e = c / f.d;
    pred.e.push(e);
    pred.variance -= e * e;
  }

  /** Adds a kriging-believer fantasy at x; `cached` predictions are updated in place. */
  addFantasy(x: readonly number[], cached: readonly { x: readonly number[]; pred: Prediction }[] = []): void {
    const p = this.predict(x);
    this.fantasies.push({
      x: [...x],
      v: p.v,
      e: p.e,
      d: Math.sqrt(Math.max(p.variance, 0) + this.sn2 + 1e-9),
    });
    const j = this.fantasies.length - 1;
    for (const c of cached) {
      this.extend(c.pred, c.x, j);
      c.pred.variance = Math.max(c.pred.variance, 1e-12);
    }
  }
}

/** Gaussian priors on the log hyperparameters (weak; they mostly keep the fit away from extremes). */
export interface HyperPrior {
  mean: number[];
  sd: number[];
  lo: number[];
  hi: number[];
}

export function defaultPrior(d: number): HyperPrior {
  // Lengthscale prior grows with √d (as in dimension-scaled priors, Hvarfner et al. 2024): in more
  // dimensions each one must explain less of the variation.
  const lsMean = Math.log(0.5 * Math.sqrt(d));
  return {
    mean: [...new Array<number>(d).fill(lsMean), 0, Math.log(1e-3)],
    sd: [...new Array<number>(d).fill(1.2), 1, 2],
    lo: [...new Array<number>(d).fill(Math.log(0.01)), Math.log(0.05), Math.log(1e-6)],
    hi: [...new Array<number>(d).fill(Math.log(30)), Math.log(20), Math.log(0.5)],
  };
}

/**
 * Negative log marginal likelihood plus negative log prior, and its analytic gradient, for
 * θ = [log ℓ_1..d, log σ_f², log σ_n²].
 */
export function negLogPosterior(
  theta: readonly number[],
  dist: Float64Array[],
  y: Float64Array,
  n: number,
  prior: HyperPrior,
): { f: number; g: number[] } {
  const d = dist.length;
  const sf2 = Math.exp(theta[d] as number);
  const sn2 = Math.exp(theta[d + 1] as number);
  const inv = theta.slice(0, d).map((t) => Math.exp(-2 * t));
  const kf = new Float64Array(n * n);
  const dk = new Float64Array(n * n); // (5/3) σ² e^{-s}(1+s), common factor of ∂k/∂log ℓ_i
  for (let a = 0; a < n; a++)
    for (let b = 0; b <= a; b++) {
      const idx = a * n + b;
      let r2 = 0;
      for (let i = 0; i < d; i++) r2 += (dist[i] as Float64Array)[idx]! * (inv[i] as number);
      const s = SQRT5 * Math.sqrt(r2);
      const e = Math.exp(-s);
      const kv = sf2 * (1 + s + (s * s) / 3) * e;
      const g = (5 / 3) * sf2 * e * (1 + s);
      kf[idx] = kv;
      kf[b * n + a] = kv;
      dk[idx] = g;
      dk[b * n + a] = g;
    }
  const l = factor(kf, n, sn2);
  if (!l) return { f: 1e10, g: new Array<number>(d + 2).fill(0) };
  const alpha = solveUpper(l, n, solveLower(l, n, y, new Float64Array(n)), new Float64Array(n));
  let f = 0.5 * n * LOG_2PI;
  for (let i = 0; i < n; i++)
    f += 0.5 * (y[i] as number) * (alpha[i] as number) + Math.log(l[i * n + i] as number);
  // K⁻¹ from L⁻¹ (lower): K⁻¹ = L⁻ᵀ L⁻¹.
  const li = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    li[c * n + c] = 1 / (l[c * n + c] as number);
    for (let r = c + 1; r < n; r++) {
      let s = 0;
      for (let k = c; k < r; k++) s -= (l[r * n + k] as number) * (li[k * n + c] as number);
      li[r * n + c] = s / (l[r * n + r] as number);
    }
  }
  // W = K⁻¹ − ααᵀ, so ∂f/∂θ = ½ tr(W ∂K/∂θ).
  const w = new Float64Array(n * n);
  for (let a = 0; a < n; a++)
    for (let b = 0; b <= a; b++) {
      let s = 0;
      for (let m = a; m < n; m++) s += (li[m * n + a] as number) * (li[m * n + b] as number);
      const v = s - (alpha[a] as number) * (alpha[b] as number);
      w[a * n + b] = v;
      w[b * n + a] = v;
    }
  const g = new Array<number>(d + 2).fill(0);
  let gsf = 0;
  let tr = 0;
  for (let a = 0; a < n; a++) {
    tr += w[a * n + a] as number;
    for (let b = 0; b < n; b++) {
      const idx = a * n + b;
      const wv = w[idx] as number;
      gsf += wv * (kf[idx] as number);
      const c = wv * (dk[idx] as number);
      if (c !== 0)
        for (let i = 0; i < d; i++) g[i]! += c * (dist[i] as Float64Array)[idx]! * (inv[i] as number);
    }
  }
  for (let i = 0; i < d; i++) g[i] = 0.5 * (g[i] as number);
  g[d] = 0.5 * gsf;
  g[d + 1] = 0.5 * sn2 * tr;
  for (let i = 0; i < d + 2; i++) {
    const z = ((theta[i] as number) - (prior.mean[i] as number)) / (prior.sd[i] as number);
    f += 0.5 * z * z;
    g[i] = (g[i] as number) + z / (prior.sd[i] as number);
  }
  return { f, g };
}

/** Box-projected L-BFGS with Armijo backtracking; compact, deterministic. */
export function lbfgs(
  fg: (x: number[]) => { f: number; g: number[] },
  x0: number[],
  lo: number[],
  hi: number[],
  maxIter = 40,
): { x: number[]; f: number } {
  const m = 6;
  const clamp = (x: number[]) => x.map((v, i) => Math.min(hi[i] as number, Math.max(lo[i] as number, v)));
  let x = clamp(x0);
  let { f, g } = fg(x);
  const ss: number[][] = [];
  const ys: number[][] = [];
  const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * (b[i] as number), 0);
  for (let it = 0; it < maxIter; it++) {
    // Two-loop recursion for the search direction.
    const q = [...g];
    const al: number[] = [];
    for (let k = ss.length - 1; k >= 0; k--) {
      const rho = 1 / dot(ys[k]!, ss[k]!);
      const a = rho * dot(ss[k]!, q);
      al[k] = a;
      for (let i = 0; i < q.length; i++) q[i]! -= a * ys[k]![i]!;
    }
    const gamma =
      ss.length > 0
        ? dot(ss.at(-1)!, ys.at(-1)!) / dot(ys.at(-1)!, ys.at(-1)!)
        : 1 / Math.max(1, Math.sqrt(dot(g, g)));
    for (let i = 0; i < q.length; i++) q[i]! *= gamma;
    for (let k = 0; k < ss.length; k++) {
      const rho = 1 / dot(ys[k]!, ss[k]!);
      const b = rho * dot(ys[k]!, q);
      for (let i = 0; i < q.length; i++) q[i]! += ss[k]![i]! * (al[k]! - b);
    }
    let dir = q.map((v) => -v);
    if (dot(dir, g) >= 0) dir = g.map((v) => -v);
    let step = 1;
    let accepted = false;
    for (let t = 0; t < 20; t++) {
      const xn = clamp(x.map((v, i) => v + step * dir[i]!));
      const moved = xn.map((v, i) => v - x[i]!);
      const r = fg(xn);
      if (r.f <= f + 1e-4 * dot(g, moved)) {
        const yk = r.g.map((v, i) => v - g[i]!);
        if (dot(yk, moved) > 1e-10) {
          ss.push(moved);
          ys.push(yk);
          if (ss.length > m) {
            ss.shift();
            ys.shift();
          }
        }
        const df = f - r.f;
        x = xn;
        f = r.f;
        g = r.g;
        accepted = true;
        if (df < 1e-7 * Math.max(1, Math.abs(f))) return { x, f };
        break;
      }
      step *= 0.3;
    }
    if (!accepted) break;
  }
  return { x, f };
}

/** Fits hyperparameters by maximising the log marginal likelihood plus priors, from a few starts. */
export function fitHyper(
  x: readonly number[][],
  y: Float64Array,
  counts: readonly number[],
  maxIter = 40,
): GpHyper {
  const n = x.length;
  const d = counts.length;
  const dist = Array.from({ length: d }, () => new Float64Array(n * n));
  for (let a = 0; a < n; a++)
    for (let b = 0; b < a; b++)
      for (let i = 0; i < d; i++) {
        const v = dimDist2(x[a] as number[], x[b] as number[], i, counts);
        (dist[i] as Float64Array)[a * n + b] = v;
        (dist[i] as Float64Array)[b * n + a] = v;
      }
  const prior = defaultPrior(d);
  const fg = (t: number[]) => negLogPosterior(t, dist, y, n, prior);
  const starts = [prior.mean, prior.mean.map((v, i) => (i < d ? v + Math.log(0.3) : v))];
  let best: { x: number[]; f: number } | undefined;
  for (const [k, s] of starts.entries()) {
    // The second start (shorter lengthscales) gets a smaller budget: it rarely wins by much.
    const r = lbfgs(fg, [...s], prior.lo, prior.hi, k === 0 ? maxIter : Math.ceil(maxIter / 2));
    if (!best || r.f < best.f) best = r;
  }
  const t = (best as { x: number[] }).x;
  return { logLs: t.slice(0, d), logSf2: t[d] as number, logSn2: t[d + 1] as number };
}
