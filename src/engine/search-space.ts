import type { Assignment, ParameterSpec, ParameterValue } from '../api/parameter.js';

/**
 * One tuned parameter seen through the unit interval. Every sampler works on [0, 1)^d and lets
 * this module own log scales, steps, integer rounding and categorical buckets, so those rules
 * are implemented once.
 */
export interface Dimension {
  readonly name: string;
  readonly type: ParameterSpec['type'];
  readonly log: boolean;
  /** Discrete values in order (steps, ints, categories); undefined for a continuous double. */
  readonly values?: readonly ParameterValue[];
  /** The manifest gave a step, so every multiple is meant to be tried (grid search). */
  readonly explicitStep: boolean;
  readonly min: number;
  readonly max: number;
}

const MAX_ENUMERATED_VALUES = 100_000;

function decimalsOf(x: number): number {
  const s = String(x);
  const e = s.indexOf('e-');
  if (e >= 0) return Number(s.slice(e + 2)) + (s.split('.')[1]?.split('e')[0]?.length ?? 0);
  return s.split('.')[1]?.length ?? 0;
}

function roundTo(x: number, decimals: number): number {
  return Number(x.toFixed(Math.min(15, decimals)));
}

function discreteValues(p: ParameterSpec): number[] | undefined {
  const min = p.min as number;
  const max = p.max as number;
  if (p.type === 'int' && p.log && p.step === undefined) return undefined;
  const step = p.step ?? (p.type === 'int' ? 1 : undefined);
  if (step === undefined) return undefined;
  const count = Math.floor((max - min) / step + 1e-9) + 1;
  if (count > MAX_ENUMERATED_VALUES) return undefined;
  const decimals = Math.max(decimalsOf(step), decimalsOf(min));
  return Array.from({ length: count }, (_, k) => roundTo(min + k * step, decimals));
}

function makeDimension(p: ParameterSpec): Dimension {
  if (p.type === 'categorical') {
    const values = p.values ?? [];
    return {
      name: p.name,
      type: p.type,
      log: false,
      values,
      explicitStep: false,
      min: 0,
      max: values.length - 1,
    };
  }
  const values = discreteValues(p);
  return {
    name: p.name,
    type: p.type,
    log: p.log ?? false,
    explicitStep: p.step !== undefined,
    ...(values ? { values } : {}),
    min: p.min as number,
    max: p.max as number,
  };
}

function clampUnit(u: number): number {
  if (!(u >= 0)) return 0;
  return u >= 1 ? 1 - Number.EPSILON : u;
}

export class SearchSpace {
  readonly dims: readonly Dimension[];
  private readonly byName: Map<string, Dimension>;

  constructor(parameters: readonly ParameterSpec[]) {
    this.dims = parameters.map(makeDimension);
    this.byName = new Map(this.dims.map((d) => [d.name, d]));
  }

  get size(): number {
    return this.dims.length;
  }

  get hasCategorical(): boolean {
    return this.dims.some((d) => d.type === 'categorical');
  }

  dimension(name: string): Dimension | undefined {
    return this.byName.get(name);
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
      if (d.values) return d.values.includes(v as ParameterValue);
      if (typeof v !== 'number' || !Number.isFinite(v)) return false;
      if (d.type === 'int' && !Number.isInteger(v)) return false;
      return v >= d.min && v <= d.max;
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
  if (d.values)
    return d.values[Math.min(d.values.length - 1, Math.floor(u * d.values.length))] as ParameterValue;
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
    const k = d.values.indexOf(v);
    return (Math.max(0, k) + 0.5) / d.values.length;
  }
  const x = v as number;
  if (d.type === 'int') {
    const [lo, hi] = intBounds(d);
    return ((d.log ? Math.log(x) : x) - lo) / (hi - lo);
  }
  if (d.log) return (Math.log(x) - Math.log(d.min)) / (Math.log(d.max) - Math.log(d.min));
  return (x - d.min) / (d.max - d.min);
}
