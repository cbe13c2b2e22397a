// Evaluates the CEL the project generates (CRD rules, the admission policy) with an independent
// CEL implementation, so unit tests can check it against the TypeScript rules it mirrors. The
// real apiserver runs the same expressions in the integration tests.
import { run } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

/** JSON as the apiserver hands it to CEL: whole numbers are ints, not doubles. */
export function celInput(value: unknown): unknown {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (Array.isArray(value)) return value.map(celInput);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, celInput(v)]));
  return value;
}

/** Runs one expression, with the strings extension (join) that Kubernetes enables too. */
export function evalCel(expression: string, bindings: Record<string, unknown>): unknown {
  return run(expression, bindings as never, { funcs: strings });
}
