/**
 * Multi-objective test problems on the unit cube, all minimised, as defined by Zitzler, Deb and
 * Thiele (ZDT, 2000) and Deb, Thiele, Laumanns and Zitzler (DTLZ, 2002). The reference points
 * are the usual ones (BoTorch's test functions use the same): far enough out that every point a
 * sampler proposes counts, so hypervolume measures the whole front.
 */
export interface Problem {
  name: string;
  dims: number;
  objectives: number;
  reference: number[];
  evaluate(x: readonly number[]): number[];
}

function zdtG(x: readonly number[]): number {
  let s = 0;
  for (let i = 1; i < x.length; i++) s += x[i]!;
  return 1 + (9 * s) / (x.length - 1);
}

export const zdt1 = (dims: number): Problem => ({
  name: 'zdt1',
  dims,
  objectives: 2,
  reference: [11, 11],
  evaluate(x) {
    const g = zdtG(x);
    const f1 = x[0]!;
    return [f1, g * (1 - Math.sqrt(f1 / g))];
  },
});

export const zdt2 = (dims: number): Problem => ({
  name: 'zdt2',
  dims,
  objectives: 2,
  reference: [11, 11],
  evaluate(x) {
    const g = zdtG(x);
    const f1 = x[0]!;
    return [f1, g * (1 - (f1 / g) ** 2)];
  },
});

/** DTLZ2 with M objectives: the front is the positive part of the unit sphere. */
export const dtlz2 = (dims: number, m = 3): Problem => ({
  name: `dtlz2`,
  dims,
  objectives: m,
  reference: new Array<number>(m).fill(1.1),
  evaluate(x) {
    let g = 0;
    for (let i = m - 1; i < x.length; i++) g += (x[i]! - 0.5) ** 2;
    return Array.from({ length: m }, (_, k) => {
      let f = 1 + g;
      for (let j = 0; j < m - 1 - k; j++) f *= Math.cos((x[j]! * Math.PI) / 2);
      if (k > 0) f *= Math.sin((x[m - 1 - k]! * Math.PI) / 2);
      return f;
    });
  },
});
