import { Rng } from '../engine/rng.js';
import type { Sampler, SamplerFactory } from '../engine/sampler.js';
import { SettingsReader } from '../engine/settings.js';

export function randomPoint(seed: number, index: number, dim: number): number[] {
  return new Rng(seed, 'random', index).unitVector(dim);
}

export const createRandomSampler: SamplerFactory = (settings) => {
  new SettingsReader(settings, 'algorithm.settings').rejectUnknown();
  const sampler: Sampler = {
    async suggest(ctx, indices) {
      return indices.map((i) => ctx.space.fromUnit(randomPoint(ctx.seed, i, ctx.space.size)));
    },
  };
  return sampler;
};
