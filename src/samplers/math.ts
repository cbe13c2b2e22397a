/** Small numeric helpers shared by the model-based samplers. */

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Complementary error function, Chebyshev fit (Numerical Recipes erfcc): relative error < 1.2e-7. */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

export const normCdf = (z: number): number => 0.5 * erfc(-z / Math.SQRT2);
export const normLogPdf = (z: number): number => -0.5 * z * z - LOG_SQRT_2PI;
export const normPdf = (z: number): number => Math.exp(normLogPdf(z));

/**
 * log(z·Φ(z) + φ(z)), the part of expected improvement that depends on z = (best − μ)/σ.
 * Direct for z > −6; below that the two terms cancel, so the asymptotic series
 * h(z) ≈ φ(z)/z² · Σ (−1)^k (2k+1)!!/z^{2k} (seven terms) is used, which keeps the acquisition
 * informative far from the incumbent instead of underflowing to −∞.
 */
export function logH(z: number): number {
  if (z > -6) return Math.log(z * normCdf(z) + normPdf(z));
  const inv = 1 / (z * z);
  let term = 1;
  let sum = 1;
  for (let k = 1; k <= 6; k++) {
    term *= -(2 * k + 1) * inv;
    sum += term;
  }
  return normLogPdf(z) + Math.log(inv) + Math.log(sum);
}

/** log expected improvement (minimisation) for a Gaussian N(mu, sigma²) below `best`. */
export function logEI(mu: number, sigma: number, best: number): number {
  if (!(sigma > 1e-12)) return mu < best ? Math.log(best - mu) : -1e10;
  return Math.log(sigma) + logH((best - mu) / sigma);
}

export function logSumExp(xs: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) m = Math.max(m, xs[i] as number);
  if (!Number.isFinite(m)) return m;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += Math.exp((xs[i] as number) - m);
  return m + Math.log(s);
}
