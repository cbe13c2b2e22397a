import { SobolSequenceGenerator } from 'sobol';
import { Rng } from '../engine/rng.js';
import type { Sampler, SamplerFactory } from '../engine/sampler.js';
import { SettingsReader } from '../engine/settings.js';

// The `sobol` package computes with 32-bit bitwise operators, which leaves 20 exact bits per
// coordinate; past 2^20 points its direction numbers wrap. Both limits are far beyond a study.
const BITS = 20;
const SCALE = 2 ** BITS;
const MAX_POINTS = 2 ** BITS - 1;

/**
 * Sobol points with a seeded digital shift (XOR of every coordinate with a random 20-bit word):
 * each seed gives a different sequence that keeps the low-discrepancy structure.
 */
export class ScrambledSobol {
  private readonly shift: number[];
  private readonly cache: number[][] = [];
  private readonly gen: SobolSequenceGenerator;

  constructor(
    readonly dim: number,
    seed: number,
  ) {
    const rng = new Rng(seed, 'sobol-shift', dim);
    this.shift = Array.from({ length: dim }, () => rng.int(SCALE));
    this.gen = new SobolSequenceGenerator(dim);
  }

  point(index: number): number[] {
    if (index > MAX_POINTS) throw new Error(`sobol sequences here are limited to ${MAX_POINTS} points`);
    while (this.cache.length <= index) this.cache.push(this.gen.nextVector());
    const raw = this.cache[index] as number[];
    return raw.map((x, d) => {
      const bits = Math.floor(x * SCALE) ^ (this.shift[d] as number);
      return (bits + 0.5) / SCALE;
    });
  }
}

export const createSobolSampler: SamplerFactory = (settings, space) => {
  new SettingsReader(settings, 'algorithm.settings').rejectUnknown();
  let sequence: ScrambledSobol | undefined;
  const sampler: Sampler = {
    async suggest(ctx, indices) {
      sequence ??= new ScrambledSobol(space.size, ctx.seed);
      const seq = sequence;
      return indices.map((i) => ctx.space.fromUnit(seq.point(i)));
    },
  };
  return sampler;
};
