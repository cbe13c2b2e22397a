import type { Assignment } from '../../src/api/parameter.js';
import type { ParameterSpecInput } from './types.js';

/** A benchmark problem: parameters, objective (minimised) and its known global minimum. */
export interface BenchFunction {
  name: string;
  parameters: ParameterSpecInput[];
  f: (p: Assignment) => number;
  optimum: number;
}

const box = (d: number, lo: number, hi: number): ParameterSpecInput[] =>
  Array.from({ length: d }, (_, i) => ({ name: `x${i}`, type: 'double' as const, min: lo, max: hi }));
const vec = (p: Assignment, d: number): number[] => Array.from({ length: d }, (_, i) => p[`x${i}`] as number);

const branin: BenchFunction = {
  name: 'branin',
  parameters: [
    { name: 'x0', type: 'double', min: -5, max: 10 },
    { name: 'x1', type: 'double', min: 0, max: 15 },
  ],
  f: (p) => {
    const [x1, x2] = vec(p, 2) as [number, number];
    const b = 5.1 / (4 * Math.PI ** 2);
    const c = 5 / Math.PI;
    const t = 1 / (8 * Math.PI);
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
  },
  optimum: 0.397887357729738,
};

const H6_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H6_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
];
const H6_ALPHA = [1, 1.2, 3, 3.2];

export function hartmann6(x: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < 4; i++) {
    let inner = 0;
    for (let j = 0; j < 6; j++) inner += H6_A[i]![j]! * (x[j]! - H6_P[i]![j]! * 1e-4) ** 2;
    s -= H6_ALPHA[i]! * Math.exp(-inner);
  }
  return s;
}

const hartmann: BenchFunction = {
  name: 'hartmann6',
  parameters: box(6, 0, 1),
  f: (p) => hartmann6(vec(p, 6)),
  optimum: -3.32236801141551,
};

const rosenbrock: BenchFunction = {
  name: 'rosenbrock4',
  parameters: box(4, -2.048, 2.048),
  f: (p) => {
    const x = vec(p, 4);
    let s = 0;
    for (let i = 0; i < 3; i++) s += 100 * (x[i + 1]! - x[i]! ** 2) ** 2 + (1 - x[i]!) ** 2;
    return s;
  },
  optimum: 0,
};

const ackley: BenchFunction = {
  name: 'ackley5',
  parameters: box(5, -15, 30),
  f: (p) => {
    const x = vec(p, 5);
    const d = x.length;
    const s1 = x.reduce((a, v) => a + v * v, 0) / d;
    const s2 = x.reduce((a, v) => a + Math.cos(2 * Math.PI * v), 0) / d;
    return -20 * Math.exp(-0.2 * Math.sqrt(s1)) - Math.exp(s2) + 20 + Math.E;
  },
  optimum: 0,
};

/**
 * A hyperparameter-like mixed space: the best learning rate depends on the optimizer, the
 * layer count has a mild optimum. Global minimum 0 at adam, lr = 1e-3, layers = 4.
 */
const mixed: BenchFunction = {
  name: 'mixed',
  parameters: [
    { name: 'lr', type: 'double', min: 1e-5, max: 1e-1, log: true },
    { name: 'optimizer', type: 'categorical', values: ['sgd', 'adam', 'rmsprop'] },
    { name: 'layers', type: 'int', min: 1, max: 8 },
  ],
  f: (p) => {
    const opt = p['optimizer'] as string;
    const target = opt === 'adam' ? -3 : opt === 'rmsprop' ? -3.5 : -2;
    const offset = opt === 'adam' ? 0 : opt === 'rmsprop' ? 0.1 : 0.3;
    const lr = Math.log10(p['lr'] as number) - target;
    const layers = (p['layers'] as number) - 4;
    return (
      lr * lr + 0.05 * layers * layers + offset + 0.1 * Math.abs(lr * layers) ** 0.5 * (layers !== 0 ? 1 : 0)
    );
  },
  optimum: 0,
};

export const FUNCTIONS: BenchFunction[] = [branin, hartmann, rosenbrock, ackley, mixed];
