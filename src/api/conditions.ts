import type { CrossFieldRule } from './crd-meta.js';
import type { ParameterSpec } from './parameter.js';

/** Where a conditional parameter's rule was broken, relative to the study's spec. */
export interface ConditionProblem {
  path: (string | number)[];
  message: string;
}

type Parameters = { parameters: readonly ParameterSpec[] };

/** Why parameter `i`'s `when.parameter` cannot be its parent, or undefined when it can. */
function parentProblem(parameters: readonly ParameterSpec[], i: number): string | undefined {
  const p = parameters[i] as ParameterSpec;
  const parent = p.when && parameters.find((q) => q.name === p.when?.parameter);
  if (!p.when) return undefined;
  if (p.when.parameter === p.name) return `${p.name} cannot depend on itself`;
  if (!parent)
    return `"${p.when.parameter}" is not a parameter of this study (parameters: ${parameters.map((q) => q.name).join(', ')})`;
  if (parent.type === 'double')
    return `"${parent.name}" is a double; a condition needs a categorical or int parent`;
  return undefined;
}

/**
 * when.parameter names another categorical or int parameter. The one condition rule cheap
 * enough for the CRD's CEL (64 × 64 comparisons); the others below are checked by zod, and by
 * the operator, which reports them on the Study's status.
 */
export const CONDITION_PARENT_RULE: CrossFieldRule<Parameters> = {
  cel: "self.parameters.all(p, !has(p.when) || self.parameters.exists(q, q.name == p.when.parameter && q.name != p.name && q.type != 'double'))",
  message: 'parameters[].when.parameter must name another parameter, of type categorical or int',
  explain: (s) =>
    s.parameters
      .flatMap((_, i) => {
        const why = parentProblem(s.parameters, i);
        return why ? [`parameters[${i}].when.parameter: ${why}`] : [];
      })
      .join('; '),
  path: 'parameters',
  holds: (s) => s.parameters.every((_, i) => parentProblem(s.parameters, i) === undefined),
};

/** The values an int parent can take, as formatted strings; undefined when there are too many to list. */
function intValues(p: ParameterSpec): ((v: string) => boolean) | undefined {
  if (p.type !== 'int') return undefined;
  const step = p.step ?? 1;
  return (v) => {
    const n = Number(v);
    return (
      /^-?[0-9]+$/.test(v) &&
      n >= (p.min as number) &&
      n <= (p.max as number) &&
      Number.isInteger((n - (p.min as number)) / step)
    );
  };
}

function valuesProblems(parameters: readonly ParameterSpec[], i: number): ConditionProblem[] {
  const p = parameters[i] as ParameterSpec;
  const parent = parameters.find((q) => q.name === p.when?.parameter);
  if (!p.when || !parent || parentProblem(parameters, i)) return [];
  const valid =
    parent.type === 'categorical' ? (v: string) => parent.values?.includes(v) === true : intValues(parent);
  const allowed =
    parent.type === 'categorical'
      ? `one of ${parent.values?.join(', ')}`
      : `a whole number in [${parent.min}, ${parent.max}]${parent.step ? ` on step ${parent.step} from ${parent.min}` : ''}, written as a string such as "${parent.min}"`;
  const out: ConditionProblem[] = [];
  p.when.in.forEach((v, k) => {
    if (!valid?.(v))
      out.push({
        path: ['parameters', i, 'when', 'in', k],
        message: `"${v}" is not a value of ${parent.type} parameter ${parent.name}: use ${allowed}`,
      });
  });
  if (new Set(p.when.in).size !== p.when.in.length)
    out.push({ path: ['parameters', i, 'when', 'in'], message: 'values must be unique' });
  return out;
}

/** A parameter whose chain of parents comes back to it: the condition can never be decided. */
function cycleProblem(parameters: readonly ParameterSpec[], i: number): ConditionProblem | undefined {
  const byName = new Map(parameters.map((p) => [p.name, p]));
  const start = parameters[i] as ParameterSpec;
  if (start.when?.parameter === start.name) return undefined; // CONDITION_PARENT_RULE's case
  const chain = [start.name];
  for (let p = byName.get(start.when?.parameter ?? ''); p; p = byName.get(p.when?.parameter ?? '')) {
    if (p.name === start.name)
      return {
        path: ['parameters', i, 'when', 'parameter'],
        message: `conditions form a cycle (${[...chain, start.name].join(' → ')}): some parameter must be unconditional`,
      };
    if (chain.includes(p.name)) return undefined; // a cycle further up, reported at its own members
    chain.push(p.name);
  }
  return undefined;
}

/** The condition rules CEL cannot afford: values of the parent, and no cycles. */
export function conditionProblems(parameters: readonly ParameterSpec[]): ConditionProblem[] {
  return parameters.flatMap((p, i) => {
    if (!p.when) return [];
    const cycle = cycleProblem(parameters, i);
    return [...valuesProblems(parameters, i), ...(cycle ? [cycle] : [])];
  });
}
