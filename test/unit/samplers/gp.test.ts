import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Matrix, inverse } from 'ml-matrix';
import { defaultPrior, GpPosterior, negLogPosterior } from '../../../src/samplers/gp.js';

// Matérn 5/2 written out independently of the implementation.
const k52 = (r: number, ell: number, sf2: number) => {
  const s = (Math.sqrt(5) * r) / ell;
  return sf2 * (1 + s + (s * s) / 3) * Math.exp(-s);
};

/** Closed-form posterior with an explicit matrix inverse (ml-matrix), 1-D inputs. */
function reference(xs: number[], ys: number[], x: number, ell: number, sf2: number, sn2: number) {
  const n = xs.length;
  const K = new Matrix(n, n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) K.set(i, j, k52(Math.abs(xs[i]! - xs[j]!), ell, sf2) + (i === j ? sn2 : 0));
  const Ki = inverse(K);
  const ks = Matrix.columnVector(xs.map((xi) => k52(Math.abs(xi - x), ell, sf2)));
  const mu = ks.transpose().mmul(Ki).mmul(Matrix.columnVector(ys)).get(0, 0);
  const v = sf2 - ks.transpose().mmul(Ki).mmul(ks).get(0, 0);
  return { mu, v };
}

describe('GP posterior', () => {
  const ell = 0.4;
  const sf2 = 1.7;
  const sn2 = 0.01;
  const hyper = { logLs: [Math.log(ell)], logSf2: Math.log(sf2), logSn2: Math.log(sn2) };

  it('matches the closed form for two and three points', () => {
    for (const [xs, ys] of [
      [
        [0.2, 0.7],
        [1.0, -0.5],
      ],
      [
        [0.1, 0.45, 0.9],
        [0.3, -1.2, 0.8],
      ],
    ] as const) {
      const gp = new GpPosterior(
        xs.map((v) => [v]),
        ys,
        hyper,
        [0],
      );
      for (const x of [0, 0.2, 0.33, 0.6, 0.99]) {
        const p = gp.predict([x]);
        const r = reference([...xs], [...ys], x, ell, sf2, sn2);
        assert.ok(Math.abs(p.mu - r.mu) < 1e-6, `mu ${p.mu} vs ${r.mu}`);
        assert.ok(Math.abs(p.variance - r.v) < 1e-6, `var ${p.variance} vs ${r.v}`);
      }
    }
  });

  it('a kriging-believer fantasy equals conditioning on the posterior mean there', () => {
    const xs = [0.1, 0.8];
    const ys = [0.5, -0.4];
    const gp = new GpPosterior(
      xs.map((v) => [v]),
      ys,
      hyper,
      [0],
    );
    const xf = 0.45;
    const muF = gp.predict([xf]).mu;
    const cached = [{ x: [0.5], pred: gp.predict([0.5]) }];
    gp.addFantasy([xf], cached);
    const r = reference([...xs, xf], [...ys, muF], 0.5, ell, sf2, sn2);
    const p = gp.predict([0.5]);
    assert.ok(Math.abs(p.mu - r.mu) < 1e-6);
    assert.ok(Math.abs(p.variance - r.v) < 1e-6, `${p.variance} vs ${r.v}`);
    assert.ok(Math.abs(cached[0]!.pred.variance - r.v) < 1e-6, 'cached prediction updated in place');
  });

  it('treats a categorical dimension with a Hamming distance', () => {
    // Two categories in a 1-D categorical dimension: same bucket → distance 0.
    const gp = new GpPosterior([[0.25]], [1], hyper, [2]);
    assert.ok(Math.abs(gp.predict([0.1]).mu - gp.predict([0.4]).mu) < 1e-12);
    assert.ok(gp.predict([0.75]).mu < gp.predict([0.25]).mu);
  });

  it('has an analytic gradient that matches finite differences', () => {
    const x = [
      [0.1, 0.2],
      [0.5, 0.9],
      [0.7, 0.3],
      [0.3, 0.6],
    ];
    const y = Float64Array.from([0.4, -1, 0.8, -0.2]);
    const n = x.length;
    const dist = [0, 1].map((i) => {
      const m = new Float64Array(n * n);
      for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) m[a * n + b] = (x[a]![i]! - x[b]![i]!) ** 2;
      return m;
    });
    const prior = defaultPrior(2);
    const theta = [Math.log(0.3), Math.log(0.6), Math.log(1.2), Math.log(0.05)];
    const { g } = negLogPosterior(theta, dist, y, n, prior);
    for (let i = 0; i < theta.length; i++) {
      const h = 1e-5;
      const up = [...theta];
      const dn = [...theta];
      up[i]! += h;
      dn[i]! -= h;
      const fd =
        (negLogPosterior(up, dist, y, n, prior).f - negLogPosterior(dn, dist, y, n, prior).f) / (2 * h);
      assert.ok(Math.abs(fd - g[i]!) < 1e-4 * Math.max(1, Math.abs(fd)), `dim ${i}: ${g[i]} vs ${fd}`);
    }
  });
});
