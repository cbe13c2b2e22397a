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
  /** Active only while the parameter named `parent` takes one of these formatted values. */
  readonly when?: { readonly parent: string; readonly in: ReadonlySet<string> };
}

/**
 * Where an inactive parameter sits on the unit cube for the models that need every coordinate
 * (the GP, CMA-ES's update): one fixed value, so all trials without the parameter look alike
 * along its axis and the parent's own axis tells the branches apart.
 */
export const INACTIVE_UNIT = 0.5;

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
  const dim = makeUnconditional(p, index);
  return p.when ? { ...dim, when: { parent: p.when.parameter, in: new Set(p.when.in) } } : dim;
}

function makeUnconditional(p: ParameterSpec, index: number): Dimension {
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

/** Dimension indices with every parent before its children; throws on an unknown parent or a cycle. */
function parentsFirst(dims: readonly Dimension[]): number[] {
  const index = new Map(dims.map((d, i) => [d.name, i]));
  const order: number[] = [];
  const placed = new Set<number>();
  const place = (i: number, depth: number): void => {
    const d = dims[i] as Dimension;
    if (placed.has(i)) return;
    if (depth > dims.length) throw new Error(`parameter ${d.name}: its conditions form a cycle`);
    if (d.when) {
      const parent = index.get(d.when.parent);
      if (parent === undefined) throw new Error(`parameter ${d.name}: when names unknown ${d.when.parent}`);
      place(parent, depth + 1);
    }
    placed.add(i);
    order.push(i);
  };
  dims.forEach((_, i) => place(i, 0));
  return order;
}

export class SearchSpace {
  readonly dims: readonly Dimension[];
  /** Some parameter has a `when`: trials may leave parameters out. */
  readonly conditional: boolean;
  /** Dimension indices, every parent before its children. */
  readonly order: readonly number[];
  private readonly indexOf: ReadonlyMap<string, number>;

  constructor(parameters: readonly ParameterSpec[]) {
    this.dims = parameters.map((p, i) => makeDimension(p, i));
    this.conditional = this.dims.some((d) => d.when);
    this.order = parentsFirst(this.dims);
    this.indexOf = new Map(this.dims.map((d, i) => [d.name, i]));
  }

  get size(): number {
    return this.dims.length;
  }

  /**
   * Which parameters are active given the values in `a` (parents first: a parameter whose parent
   * is inactive is inactive too). Values of inactive parameters in `a` are ignored.
   */
  activity(a: Assignment): boolean[] {
    const active = new Array<boolean>(this.dims.length).fill(true);
    for (const i of this.order) {
      const when = (this.dims[i] as Dimension).when;
      if (!when) continue;
      const parent = this.indexOf.get(when.parent) as number;
      const value = a[when.parent];
      active[i] = active[parent] === true && value !== undefined && when.in.has(String(value));
    }
    return active;
  }

  /**
   * Maps a point of [0,1)^d to valid parameter values (snapped to steps, ints and categories);
   * inactive parameters are left out, whatever their coordinate.
   */
  fromUnit(u: readonly number[]): Assignment {
    const out: Assignment = {};
    this.dims.forEach((d, i) => {
      out[d.name] = valueFromUnit(d, clampUnit(u[i] ?? 0));
    });
    if (!this.conditional) return out;
    const active = this.activity(out);
    this.dims.forEach((d, i) => {
      if (!active[i]) delete out[d.name];
    });
    return out;
  }

  /**
   * Inverse of fromUnit; discrete values map to the centre of their bucket. A parameter the
   * assignment lacks (inactive) takes `inactive[i]`, by default INACTIVE_UNIT.
   */
  toUnit(a: Assignment, inactive?: readonly number[]): number[] {
    return this.dims.map((d, i) => {
      const v = a[d.name];
      return v === undefined ? (inactive?.[i] ?? INACTIVE_UNIT) : unitFromValue(d, v);
    });
  }

  /** Canonical string form, as written into Trial specs and substituted into templates. */
  format(a: Assignment): Record<string, string> {
    const out: Record<string, string> = {};
    for (const d of this.dims) if (a[d.name] !== undefined) out[d.name] = String(a[d.name]);
    return out;
  }

  /**
   * Reads a formatted assignment back; throws with the parameter and the reason. An active
   * parameter must have a value and an inactive one must not.
   */
  parse(record: Record<string, string>): Assignment {
    const out: Assignment = {};
    for (const i of this.order) {
      const d = this.dims[i] as Dimension;
      const raw = record[d.name];
      if (d.when && !this.activity(out)[i]) {
        if (raw !== undefined)
          throw new Error(
            `parameter ${d.name} has a value but is inactive: it needs ${d.when.parent} in [${[...d.when.in].join(', ')}]`,
          );
        continue;
      }
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
    // Parents were read first; the result lists parameters in the spec's order.
    const ordered: Assignment = {};
    for (const d of this.dims) if (out[d.name] !== undefined) ordered[d.name] = out[d.name] as ParameterValue;
    return ordered;
  }

  /** True when every value is one this space can produce, and exactly the active parameters have one. */
  contains(a: Assignment): boolean {
    return this.outside(a) === undefined;
  }

  /** Why `a` is not a point of this space (the first parameter at fault), or undefined when it is. */
  outside(a: Assignment): string | undefined {
    const active = this.conditional ? this.activity(a) : undefined;
    for (const [i, d] of this.dims.entries()) {
      const v = a[d.name];
      if (active && !active[i]) {
        if (v !== undefined)
          return `parameter ${d.name} is inactive (it needs ${d.when?.parent} in [${[...(d.when?.in ?? [])].join(', ')}]) but has a value`;
        continue;
      }
      const why = outsideDimension(d, v);
      if (why) return `parameter ${d.name}: ${why}`;
    }
    return undefined;
  }

  /** Identifies an assignment; an absent (inactive) parameter is written as \u0001. */
  key(a: Assignment): string {
    return this.dims.map((d) => (a[d.name] === undefined ? '\u0001' : String(a[d.name]))).join('\u0000');
  }
}

function outsideDimension(d: Dimension, v: ParameterValue | undefined): string | undefined {
  if (v === undefined) return 'is missing';
  if (d.values)
    return d.values.includes(v as string)
      ? undefined
      : `${JSON.stringify(v)} is not one of ${d.values.join(', ')}`;
  if (typeof v !== 'number' || !Number.isFinite(v)) return `${JSON.stringify(v)} is not a number`;
  if (d.type === 'int' && !Number.isInteger(v)) return `${v} is not a whole number`;
  if (v < d.min || v > d.max) return `${v} is outside [${d.min}, ${d.max}]`;
  if (d.step !== undefined && stepValue(d, stepIndex(d, v)) !== v)
    return `${v} is not on step ${d.step} from ${d.min}`;
  return undefined;
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
