import type { Assignment, ParameterValue } from '../api/parameter.js';
import { Rng } from '../engine/rng.js';
import type { Sampler, SamplerFactory } from '../engine/sampler.js';
import { SettingsError } from '../engine/sampler.js';
import type { Dimension, SearchSpace } from '../engine/search-space.js';
import { stepValue } from '../engine/search-space.js';
import { SettingsReader } from '../engine/settings.js';

const MAX_GRID_POINTS = 1_000_000;

/**
 * Values a grid takes along one dimension. Explicit steps and categories are enumerated in
 * full; continuous doubles (and wide ints without a step) get `pointsPerDimension` values,
 * evenly spaced on the parameter's own scale.
 */
export function gridValues(d: Dimension, pointsPerDimension: number): ParameterValue[] {
  if (d.values) return [...d.values];
  if (d.count !== undefined && (d.explicitStep || d.count <= pointsPerDimension)) {
    return Array.from({ length: d.count }, (_, k) => stepValue(d, k));
  }
  const out: ParameterValue[] = [];
  for (let k = 0; k < pointsPerDimension; k++) {
    const t = k / (pointsPerDimension - 1);
    let v = d.log
      ? Math.exp(Math.log(d.min) + t * (Math.log(d.max) - Math.log(d.min)))
      : d.min + t * (d.max - d.min);
    if (d.type === 'int') v = Math.round(v);
    else v = Number(v.toPrecision(12));
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

/** Grid search tries every step, so a fine step is refused here rather than enumerated. */
function checkStepCount(d: Dimension, index: number): void {
  if (!d.explicitStep || (d.count as number) <= MAX_GRID_POINTS) return;
  const exact = (d.max - d.min) / (MAX_GRID_POINTS - 1);
  const unit = 10 ** (Math.floor(Math.log10(exact)) - 2);
  const smallest = Number((Math.ceil(exact / unit) * unit).toPrecision(3));
  throw new SettingsError(
    `parameters[${index}].step`,
    `grid search tries every step, and step ${d.step} gives ${d.name} ${d.count} values in [${d.min}, ${d.max}], more than the ${MAX_GRID_POINTS} points a grid may have; use a step of at least ${smallest}, or another algorithm`,
  );
}

/**
 * Mixed-radix numbers (as pointAt reads them) of every valid combination of a conditional space:
 * parents are chosen first, and an inactive parameter contributes digit 0 only. Stops past
 * MAX_GRID_POINTS, which the caller then refuses.
 */
function conditionalPoints(space: SearchSpace, axes: readonly ParameterValue[][]): Float64Array {
  const radix = new Array<number>(axes.length);
  let weight = 1;
  for (let i = axes.length - 1; i >= 0; i--) {
    radix[i] = weight;
    weight *= (axes[i] as ParameterValue[]).length;
  }
  if (!Number.isSafeInteger(weight))
    throw new SettingsError(
      'algorithm',
      `the conditional grid's ${weight} combinations cannot be indexed; add steps or fewer values`,
    );
  const out: number[] = [];
  const partial: Assignment = {};
  const visit = (depth: number, flat: number): void => {
    if (out.length > MAX_GRID_POINTS) return;
    if (depth === space.order.length) {
      out.push(flat);
      return;
    }
    const i = space.order[depth] as number;
    const name = (space.dims[i] as Dimension).name;
    if (!space.activity(partial)[i]) return visit(depth + 1, flat);
    (axes[i] as ParameterValue[]).forEach((v, k) => {
      partial[name] = v;
      visit(depth + 1, flat + k * (radix[i] as number));
    });
    delete partial[name];
  };
  visit(0, 0);
  return Float64Array.from(out.sort((a, b) => a - b));
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

  space.dims.forEach((d, i) => checkStepCount(d, i));
  const axes = space.dims.map((d) => gridValues(d, pointsPerDimension));
  const full = axes.reduce((n, axis) => n * axis.length, 1);
  // A conditional grid holds only the valid combinations: inactive parameters take no values.
  const valid = space.conditional ? conditionalPoints(space, axes) : undefined;
  const total = valid?.length ?? full;
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
    // fromUnit's rule: a parameter whose condition fails is left out (its digit was 0).
    const active = space.activity(out);
    space.dims.forEach((d, i) => {
      if (!active[i]) delete out[d.name];
    });
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
        const k = o[i] as number;
        return pointAt(ctx.space, valid ? (valid[k] as number) : k);
      });
    },
  };
  return sampler;
};
