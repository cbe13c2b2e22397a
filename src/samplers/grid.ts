import type { Assignment, ParameterValue } from '../api/parameter.js';
import { Rng } from '../engine/rng.js';
import type { Sampler, SamplerFactory } from '../engine/sampler.js';
import { SettingsError } from '../engine/sampler.js';
import type { Dimension, SearchSpace } from '../engine/search-space.js';
import { SettingsReader } from '../engine/settings.js';

const MAX_GRID_POINTS = 1_000_000;

/**
 * Values a grid takes along one dimension. Explicit steps and categories are enumerated in
 * full; continuous doubles (and wide ints without a step) get `pointsPerDimension` values,
 * evenly spaced on the parameter's own scale.
 */
export function gridValues(d: Dimension, pointsPerDimension: number): ParameterValue[] {
  if (d.values && (d.type === 'categorical' || d.explicitStep || d.values.length <= pointsPerDimension)) {
    return [...d.values];
  }
  const out: ParameterValue[] = [];
  for (let k = 0; k < pointsPerDimension; k++) {
    const t = k / (pointsPerDimension - 1);
    let v = d.log
      ? Math.exp(Math.log(d.min) + t * (Math.log(d.max) - Math.log(d.min)))
      : d.min + t * (d.max - d.min);
    if (d.values) v = nearest(d.values as number[], v);
    else if (d.type === 'int') v = Math.round(v);
    else v = Number(v.toPrecision(12));
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

function nearest(values: number[], v: number): number {
  let best = values[0] as number;
  for (const x of values) if (Math.abs(x - v) < Math.abs(best - v)) best = x;
  return best;
}

export const createGridSampler: SamplerFactory = (settings, space) => {
  const reader = new SettingsReader(settings, 'algorithm.settings');
  const pointsPerDimension = reader.number('pointsPerDimension', {
    default: 5,
    min: 2,
    max: 1000,
    integer: true,
  });
  const shuffle = reader.boolean('shuffle', true);
  reader.rejectUnknown();

  const axes = space.dims.map((d) => gridValues(d, pointsPerDimension));
  const total = axes.reduce((n, axis) => n * axis.length, 1);
  if (total > MAX_GRID_POINTS) {
    throw new SettingsError(
      'algorithm',
      `the grid has ${total} points, more than ${MAX_GRID_POINTS}; add steps, fewer values or a smaller pointsPerDimension`,
    );
  }
  let order: number[] | undefined;

  const pointAt = (space: SearchSpace, flat: number): Assignment => {
    const out: Assignment = {};
    // Mixed radix with the last parameter varying fastest.
    for (let i = space.dims.length - 1; i >= 0; i--) {
      const axis = axes[i] as ParameterValue[];
      out[(space.dims[i] as Dimension).name] = axis[flat % axis.length] as ParameterValue;
      flat = Math.floor(flat / axis.length);
    }
    return out;
  };

  const sampler: Sampler = {
    capacity: () => total,
    async suggest(ctx, indices) {
      // Shuffled by seed so a maxTrials smaller than the grid still spreads over the space.
      order ??= shuffle
        ? new Rng(ctx.seed, 'grid').shuffle(Array.from({ length: total }, (_, i) => i))
        : Array.from({ length: total }, (_, i) => i);
      const o = order;
      return indices.map((i) => {
        if (i >= total) throw new Error(`grid has only ${total} points; trial ${i} cannot be placed`);
        return pointAt(ctx.space, o[i] as number);
      });
    },
  };
  return sampler;
};
