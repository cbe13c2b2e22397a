import type { Assignment, ParameterSpec, ParameterValue } from '../api/parameter.js';
import { SettingsError } from './sampler.js';

/**
 * One tuned parameter seen through the unit interval. Every sampler works on [0, 1)^d and lets
 * this module own log scales, steps, integer rounding and categorical buckets, so those rules
 * are implemented once.
 */
export interface Dimension {
  readonly name: string;
  readonly type: ParameterSpec['type'];
  readonly log: boolean;
  /** Categorical values, in order. */
  readonly values?: readonly string[];
  /** Spacing of a stepped number: the manifest's step, or 1 for an int on a linear scale. */
  readonly step?: number;
  /**
   * How many values a categorical or stepped parameter has; undefined when the parameter is
   * continuous (a double without step, an int on a log scale).
   */
  readonly count?: number;
  /** The manifest gave a step, so every multiple is meant to be tried (grid search). */
  readonly explicitStep: boolean;
  readonly min: number;
  readonly max: number;
}

function decimalsOf(x: number): number {
  const s = String(x);
  const e = s.indexOf('e-');
  if (e >= 0) return Number(s.slice(e + 2)) + (s.split('.')[1]?.split('e')[0]?.length ?? 0);
  return s.split('.')[1]?.length ?? 0;
}

// toFixed takes at most 100 digits; steps below 1e-15 need more than the 15 that hide float noise.
function roundTo(x: number, decimals: number): number {
  return Number(x.toFixed(Math.min(100, decimals)));
}

/** The k-th value of a stepped dimension, written with no more decimals than min and step have. */
export function stepValue(d: Dimension, k: number): number {
  const step = d.step as number;
  return roundTo(d.min + k * step, Math.max(decimalsOf(step), decimalsOf(d.min)));
}

/** Index of the stepped value nearest to v (clamped to the grid). */
function stepIndex(d: Dimension, v: number): number {
  const k = Math.round((v - d.min) / (d.step as number));
  return Math.min((d.count as number) - 1, Math.max(0, k));
}

function makeNumeric(p: ParameterSpec, index: number): Dimension {
  const base = {
    name: p.name,
    type: p.type,
    log: p.log ?? false,
    explicitStep: p.step !== undefined,
    min: p.min as number,
    max: p.max as number,
  };
  const step = p.step ?? (p.type === 'int' && !base.log ? 1 : undefined);
  if (step === undefined) return base;
  const span = (base.max - base.min) / step;
  // The tolerance absorbs division noise (0.3 / 0.1 = 2.9999999999999996) without adding a value.
  const count = Math.floor(span + Math.max(1e-9, 4 * Number.EPSILON * span)) + 1;
  // Values are indexed by integers, so a grid must stay countable in exact double arithmetic.
  if (!Number.isSafeInteger(count)) {
    // An int this wide is rounded like a log-scale one; a step the user wrote must be honoured.
    if (p.step === undefined) return base;
    throw new SettingsError(
      `parameters[${index}].step`,
      `step ${step} divides [${base.min}, ${base.max}] of ${p.name} into more than 2^53 values; use a step of at least ${(base.max - base.min) / 2 ** 53}`,
    );
  }
  return { ...base, step, count };
}

function makeDimension(p: ParameterSpec, index: number): Dimension {
  if (p.type !== 'categorical') return makeNumeric(p, index);
  const values = p.values ?? [];
  return {
    name: p.name,
    type: p.type,
    log: false,
    values,
    count: values.length,
    explicitStep: false,
    min: 0,
    max: values.length - 1,
  };
}

function clampUnit(u: number): number {
  if (!(u >= 0)) return 0;
  return u >= 1 ? 1 - Number.EPSILON : u;
}

export class SearchSpace {
  readonly dims: readonly Dimension[];

  constructor(parameters: readonly ParameterSpec[]) {
    this.dims = parameters.map((p, i) => makeDimension(p, i));
  }

  get size(): number {
    return this.dims.length;
  }

  /** Maps a point of [0,1)^d to valid parameter values (snapped to steps, ints and categories). */
  fromUnit(u: readonly number[]): Assignment {
    const out: Assignment = {};
    this.dims.forEach((d, i) => {
      out[d.name] = valueFromUnit(d, clampUnit(u[i] ?? 0));
    });
    return out;
  }

  /** Inverse of fromUnit; discrete values map to the centre of their bucket. */
  toUnit(a: Assignment): number[] {
    return this.dims.map((d) => unitFromValue(d, a[d.name] as ParameterValue));
  }

  /** Canonical string form, as written into Trial specs and substituted into templates. */
  format(a: Assignment): Record<string, string> {
    const out: Record<string, string> = {};
    for (const d of this.dims) out[d.name] = String(a[d.name]);
    return out;
  }

  /** Reads a formatted assignment back; throws with the parameter and the reason. */
  parse(record: Record<string, string>): Assignment {
    const out: Assignment = {};
    for (const d of this.dims) {
      const raw = record[d.name];
      if (raw === undefined) throw new Error(`parameter ${d.name} is missing`);
      if (d.type === 'categorical') {
        if (!d.values?.includes(raw))
          throw new Error(`parameter ${d.name}: "${raw}" is not one of its values`);
        out[d.name] = raw;
        continue;
      }
      const v = Number(raw);
      if (!Number.isFinite(v)) throw new Error(`parameter ${d.name}: "${raw}" is not a number`);
      if (d.type === 'int' && !Number.isInteger(v))
        throw new Error(`parameter ${d.name}: ${raw} is not an integer`);
      out[d.name] = v;
    }
    return out;
  }

  /** True when every value is one this space can produce. */
  contains(a: Assignment): boolean {
    return this.dims.every((d) => {
      const v = a[d.name];
      if (d.values) return d.values.includes(v as string);
      if (typeof v !== 'number' || !Number.isFinite(v)) return false;
      if (d.type === 'int' && !Number.isInteger(v)) return false;
      if (v < d.min || v > d.max) return false;
      return d.step === undefined || stepValue(d, stepIndex(d, v)) === v;
    });
  }

  key(a: Assignment): string {
    return this.dims.map((d) => String(a[d.name])).join('\u0000');
  }
}

function intBounds(d: Dimension): [number, number] {
  return d.log ? [Math.log(d.min - 0.5), Math.log(d.max + 0.5)] : [d.min - 0.5, d.max + 0.5];
}

function valueFromUnit(d: Dimension, u: number): ParameterValue {
  if (d.values) return d.values[Math.min(d.values.length - 1, Math.floor(u * d.values.length))] as string;
  if (d.step !== undefined)
    return stepValue(d, Math.min((d.count as number) - 1, Math.floor(u * (d.count as number))));
  if (d.type === 'int') {
    // Widen by half a unit so the end values get a full bucket, as rounding gives the others.
    const [lo, hi] = intBounds(d);
    const x = lo + u * (hi - lo);
    return Math.min(d.max, Math.max(d.min, Math.round(d.log ? Math.exp(x) : x)));
  }
  if (d.log) {
    const lo = Math.log(d.min);
    const hi = Math.log(d.max);
    return Math.min(d.max, Math.max(d.min, Math.exp(lo + u * (hi - lo))));
  }
  return d.min + u * (d.max - d.min);
}

function unitFromValue(d: Dimension, v: ParameterValue): number {
  if (d.values) {
    const k = d.values.indexOf(v as string);
    return (Math.max(0, k) + 0.5) / d.values.length;
  }
  const x = v as number;
  if (d.step !== undefined) return (stepIndex(d, x) + 0.5) / (d.count as number);
  if (d.type === 'int') {
    const [lo, hi] = intBounds(d);
    return ((d.log ? Math.log(x) : x) - lo) / (hi - lo);
  }
  if (d.log) return (Math.log(x) - Math.log(d.min)) / (Math.log(d.max) - Math.log(d.min));
  return (x - d.min) / (d.max - d.min);
}
