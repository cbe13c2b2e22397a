import { Rng } from '../engine/rng.js';
import type { Sampler, SamplerFactory } from '../engine/sampler.js';
import { SettingsReader } from '../engine/settings.js';

/** Studies have at most 64 parameters, so the table below stops there. */
export const SOBOL_MAX_DIMENSION = 64;
const BITS = 32;
const SCALE = 2 ** BITS;

/**
 * Joe and Kuo's direction numbers (file new-joe-kuo-6.21201, S. Joe and F. Y. Kuo, "Constructing
 * Sobol sequences with better two-dimensional projections", SIAM J. Sci. Comput. 30, 2008) for
 * dimensions 2 to 64, one row per dimension: degree s of the primitive polynomial, its inner
 * coefficients a as a binary number, and the initial m_1 … m_s: that file's rows for dimensions
 * 2-64, as numbers. Dimension 1 needs none.
 */
const JOE_KUO: readonly (readonly number[])[] = [
  [1, 0, 1],
  [2, 1, 1, 3],
  [3, 1, 1, 3, 1],
  [3, 2, 1, 1, 1],
  [4, 1, 1, 1, 3, 3],
  [4, 4, 1, 3, 5, 13],
  [5, 2, 1, 1, 5, 5, 17],
  [5, 4, 1, 1, 5, 5, 5],
  [5, 7, 1, 1, 7, 11, 19],
  [5, 11, 1, 1, 5, 1, 1],
  [5, 13, 1, 1, 1, 3, 11],
  [5, 14, 1, 3, 5, 5, 31],
  [6, 1, 1, 3, 3, 9, 7, 49],
  [6, 13, 1, 1, 1, 15, 21, 21],
  [6, 16, 1, 3, 1, 13, 27, 49],
  [6, 19, 1, 1, 1, 15, 7, 5],
  [6, 22, 1, 3, 1, 15, 13, 25],
  [6, 25, 1, 1, 5, 5, 19, 61],
  [7, 1, 1, 3, 7, 11, 23, 15, 103],
  [7, 4, 1, 3, 7, 13, 13, 15, 69],
  [7, 7, 1, 1, 3, 13, 7, 35, 63],
  [7, 8, 1, 3, 5, 9, 1, 25, 53],
  [7, 14, 1, 3, 1, 13, 9, 35, 107],
  [7, 19, 1, 3, 1, 5, 27, 61, 31],
  [7, 21, 1, 1, 5, 11, 19, 41, 61],
  [7, 28, 1, 3, 5, 3, 3, 13, 69],
  [7, 31, 1, 1, 7, 13, 1, 19, 1],
  [7, 32, 1, 3, 7, 5, 13, 19, 59],
  [7, 37, 1, 1, 3, 9, 25, 29, 41],
  [7, 41, 1, 3, 5, 13, 23, 1, 55],
  [7, 42, 1, 3, 7, 3, 13, 59, 17],
  [7, 50, 1, 3, 1, 3, 5, 53, 69],
  [7, 55, 1, 1, 5, 5, 23, 33, 13],
  [7, 56, 1, 1, 7, 7, 1, 61, 123],
  [7, 59, 1, 1, 7, 9, 13, 61, 49],
  [7, 62, 1, 3, 3, 5, 3, 55, 33],
  [8, 14, 1, 3, 1, 15, 31, 13, 49, 245],
  [8, 21, 1, 3, 5, 15, 31, 59, 63, 97],
  [8, 22, 1, 3, 1, 11, 11, 11, 77, 249],
  [8, 38, 1, 3, 1, 11, 27, 43, 71, 9],
  [8, 47, 1, 1, 7, 15, 21, 11, 81, 45],
  [8, 49, 1, 3, 7, 3, 25, 31, 65, 79],
  [8, 50, 1, 3, 1, 1, 19, 11, 3, 205],
  [8, 52, 1, 1, 5, 9, 19, 21, 29, 157],
  [8, 56, 1, 3, 7, 11, 1, 33, 89, 185],
  [8, 67, 1, 3, 3, 3, 15, 9, 79, 71],
  [8, 70, 1, 3, 7, 11, 15, 39, 119, 27],
  [8, 84, 1, 1, 3, 1, 11, 31, 97, 225],
  [8, 97, 1, 1, 1, 3, 23, 43, 57, 177],
  [8, 103, 1, 3, 7, 7, 17, 17, 37, 71],
  [8, 115, 1, 3, 1, 5, 27, 63, 123, 213],
  [8, 122, 1, 1, 3, 5, 11, 43, 53, 133],
  [9, 8, 1, 3, 5, 5, 29, 17, 47, 173, 479],
  [9, 13, 1, 3, 3, 11, 3, 1, 109, 9, 69],
  [9, 16, 1, 1, 1, 5, 17, 39, 23, 5, 343],
  [9, 22, 1, 3, 1, 5, 25, 15, 31, 103, 499],
  [9, 25, 1, 1, 1, 11, 11, 17, 63, 105, 183],
  [9, 44, 1, 1, 5, 11, 9, 29, 97, 231, 363],
  [9, 47, 1, 1, 5, 15, 19, 45, 41, 7, 383],
  [9, 52, 1, 3, 7, 7, 31, 19, 83, 137, 221],
  [9, 55, 1, 1, 1, 3, 23, 15, 111, 223, 83],
  [9, 59, 1, 1, 5, 13, 31, 15, 55, 25, 161],
  [9, 62, 1, 1, 3, 13, 25, 47, 39, 87, 257],
];

/**
 * Direction numbers of one dimension as 32-bit words (bit 31 is the first binary digit), from the
 * recurrence m_k = 2^s·m_{k−s} ⊕ m_{k−s} ⊕ (⊕_{j<s} 2^j·a_j·m_{k−j}) of Bratley and Fox, with
 * v_k = m_k / 2^k. Every m_k < 2^32, and `^` keeps the low 32 bits, so doubles hold them exactly.
 */
function directionWords(row: readonly number[]): Uint32Array {
  const [s, a, ...initial] = row as [number, number, ...number[]];
  const m = [...initial];
  for (let k = s; k < BITS; k++) {
    let next = (m[k - s]! * 2 ** s) ^ m[k - s]!;
    for (let j = 1; j < s; j++) {
      // a's bits, most significant first, are the coefficients of the middle terms.
      if ((a >> (s - 1 - j)) & 1) next ^= m[k - j]! * 2 ** j;
    }
    m.push(next >>> 0);
  }
  return Uint32Array.from(m, (mk, k) => mk * 2 ** (BITS - 1 - k));
}

const DIRECTIONS: readonly Uint32Array[] = [
  Uint32Array.from({ length: BITS }, (_, k) => 2 ** (BITS - 1 - k)),
  ...JOE_KUO.map(directionWords),
];

/** Coordinate `dim` of the Sobol' point with Gray code `gray`, as a 32-bit word. */
function word(gray: number, dim: number): number {
  const v = DIRECTIONS[dim]!;
  let x = 0;
  for (let k = 0, g = gray; g !== 0; k++, g >>>= 1) if (g & 1) x ^= v[k]!;
  return x >>> 0;
}

function checkDim(dim: number): void {
  if (!Number.isInteger(dim) || dim < 1 || dim > SOBOL_MAX_DIMENSION)
    throw new RangeError(`sobol sequences here have 1 to ${SOBOL_MAX_DIMENSION} dimensions, not ${dim}`);
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= SCALE)
    throw new RangeError(`sobol point index must be a whole number in [0, 2^32), got ${index}`);
}

/**
 * The index-th point of the unscrambled Sobol' sequence in `dim` dimensions, in Gray-code order
 * (the order of Joe and Kuo's and scipy's generators): point 0 is the origin.
 */
export function sobolPoint(index: number, dim: number): number[] {
  checkDim(dim);
  checkIndex(index);
  const gray = (index ^ (index >>> 1)) >>> 0;
  return Array.from({ length: dim }, (_, d) => word(gray, d) / SCALE);
}

/**
 * Sobol' points with a seeded digital shift (XOR of every coordinate with a random 32-bit word):
 * each seed gives a different sequence that keeps the low-discrepancy structure. Coordinates are
 * centred in their 2^-32 cell, so they lie strictly inside (0, 1).
 */
export class ScrambledSobol {
  private readonly shift: Uint32Array;

  constructor(
    readonly dim: number,
    seed: number,
  ) {
    checkDim(dim);
    const rng = new Rng(seed, 'sobol-shift', dim);
    this.shift = Uint32Array.from({ length: dim }, () => rng.int(SCALE));
  }

  point(index: number): number[] {
    checkIndex(index);
    const gray = (index ^ (index >>> 1)) >>> 0;
    return Array.from(
      { length: this.dim },
      (_, d) => (((word(gray, d) ^ this.shift[d]!) >>> 0) + 0.5) / SCALE,
    );
  }
}

export const createSobolSampler: SamplerFactory = (settings) => {
  new SettingsReader(settings, 'algorithm.settings').rejectUnknown();
  const sampler: Sampler = {
    async suggest(ctx, indices) {
      const sequence = new ScrambledSobol(ctx.space.size, ctx.seed);
      return indices.map((i) => ctx.space.fromUnit(sequence.point(i)));
    },
  };
  return sampler;
};
