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

/** ZDT1 and ZDT2 differ only in the shape h(f1 / g) of their front: f2 = g * (1 - h). */
const zdt =
  (name: string, h: (r: number) => number) =>
  (dims: number): Problem => ({
    name,
    dims,
    objectives: 2,
    reference: [11, 11],
    evaluate(x) {
      const g = zdtG(x);
      const f1 = x[0]!;
      return [f1, g * (1 - h(f1 / g))];
    },
  });

export const zdt1 = zdt('zdt1', Math.sqrt);
export const zdt2 = zdt('zdt2', (r) => r ** 2);

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

/** The problem as a study sees it: parameters x0, x1, ... on [0, 1], and objectives f0, f1, ... minimised. */
export function problemSpace(problem: Problem) {
  return {
    parameters: Array.from({ length: problem.dims }, (_, i) => ({
      name: `x${i}`,
      type: 'double' as const,
      min: 0,
      max: 1,
    })),
    objectives: Array.from({ length: problem.objectives }, (_, k) => ({
      metric: `f${k}`,
      goal: 'minimize' as const,
    })),
  };
}

/** The point of the unit cube that a trial's parameters (see problemSpace) stand for. */
export const pointOf = (problem: Problem, params: Readonly<Record<string, unknown>>): number[] =>
  Array.from({ length: problem.dims }, (_, i) => params[`x${i}`] as number);
