import { z } from 'zod';
import { withRules, type CrossFieldRule } from './crd-meta.js';

export const PARAMETER_TYPES = ['double', 'int', 'categorical'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

const ParameterName = z
  .string()
  .max(63)
  .regex(NAME_PATTERN, 'must start with a letter or _ and contain only letters, digits and _');

/**
 * Makes a parameter conditional: it is active only while `parameter` (a categorical or int
 * parameter) takes one of the values in `in`, written as the parent's formatted values (ints as
 * strings, e.g. "2"). An inactive parameter is left out of the trial altogether.
 */
export const ParameterCondition = z.strictObject({
  parameter: ParameterName,
  in: z.array(z.string().max(63)).min(1).max(64),
});
export type ParameterCondition = z.output<typeof ParameterCondition>;

const ParameterFields = z.strictObject({
  name: ParameterName,
  type: z.enum(PARAMETER_TYPES),
  min: z.number().optional(),
  max: z.number().optional(),
  log: z.boolean().optional(),
  step: z.number().positive().optional(),
  values: z.array(z.string().max(63)).max(64).optional(),
  when: ParameterCondition.optional(),
});
type ParameterFields = z.output<typeof ParameterFields>;

const isNum = (p: ParameterFields) => p.type !== 'categorical';
const bothBounds = (p: ParameterFields): p is ParameterFields & { min: number; max: number } =>
  p.min !== undefined && p.max !== undefined;

// One union-free object keeps the CRD schema structural; these rules carry the per-type shape.
const parameterRules: CrossFieldRule<ParameterFields>[] = [
  {
    cel: "self.type == 'categorical' || (has(self.min) && has(self.max))",
    message: 'double and int parameters need both min and max',
    path: 'min',
    holds: (p) => !isNum(p) || bothBounds(p),
  },
  {
    cel: '!has(self.min) || !has(self.max) || self.min < self.max',
    message: 'min must be less than max',
    path: 'max',
    holds: (p) => !bothBounds(p) || p.min < p.max,
  },
  {
    // Each bound can be a finite double while their difference overflows to Infinity.
    cel: '!has(self.min) || !has(self.max) || self.max - self.min <= 1.7976931348623157e308',
    message: 'max - min must be at most 1.7976931348623157e308, the largest finite double',
    path: 'max',
    holds: (p) => !bothBounds(p) || Number.isFinite(p.max - p.min),
  },
  {
    cel: '!has(self.log) || !self.log || (has(self.min) && self.min > 0)',
    message: 'log: true needs min > 0',
    path: 'min',
    holds: (p) => !p.log || (p.min !== undefined && p.min > 0),
  },
  {
    cel: '!has(self.step) || !has(self.log) || !self.log',
    message: 'step and log: true cannot be combined',
    path: 'step',
    holds: (p) => p.step === undefined || !p.log,
  },
  {
    cel: '!has(self.step) || !has(self.min) || !has(self.max) || self.step <= self.max - self.min',
    message: 'step must not be larger than max - min',
    path: 'step',
    holds: (p) => p.step === undefined || !bothBounds(p) || p.step <= p.max - p.min,
  },
  {
    cel: "self.type != 'int' || ((!has(self.min) || double(int(self.min)) == self.min) && (!has(self.max) || double(int(self.max)) == self.max) && (!has(self.step) || double(int(self.step)) == self.step))",
    message: 'int parameters need whole-number min, max and step',
    path: 'type',
    holds: (p) =>
      p.type !== 'int' || [p.min, p.max, p.step].every((v) => v === undefined || Number.isInteger(v)),
  },
  {
    cel: "self.type != 'categorical' || (has(self.values) && size(self.values) > 0)",
    message: 'categorical parameters need a non-empty values list',
    path: 'values',
    holds: (p) => p.type !== 'categorical' || (p.values !== undefined && p.values.length > 0),
  },
  {
    cel: "self.type != 'categorical' || (!has(self.min) && !has(self.max) && !has(self.step) && !has(self.log))",
    message: 'categorical parameters take values, not min, max, step or log',
    path: 'type',
    holds: (p) => p.type !== 'categorical' || [p.min, p.max, p.step, p.log].every((v) => v === undefined),
  },
  {
    cel: "self.type == 'categorical' || !has(self.values)",
    message: 'values is only for categorical parameters',
    path: 'values',
    holds: (p) => p.type === 'categorical' || p.values === undefined,
  },
  {
    cel: '!has(self.values) || self.values.all(v, self.values.exists_one(w, w == v))',
    message: 'categorical values must be unique',
    path: 'values',
    holds: (p) => p.values === undefined || new Set(p.values).size === p.values.length,
  },
];

export const ParameterSpec = withRules(ParameterFields, parameterRules);
export type ParameterSpec = z.output<typeof ParameterSpec>;

/** A concrete value for every parameter: numbers for double/int, strings for categorical. */
export type ParameterValue = number | string;
export type Assignment = Record<string, ParameterValue>;
