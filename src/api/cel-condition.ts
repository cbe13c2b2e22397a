import { celEnv, CelScalar, isCelError, parse, plan, type CelValue } from '@bufbuild/cel';
import type { Expr } from '@bufbuild/cel-spec/cel/expr/syntax_pb.js';

/**
 * successCondition / failureCondition: CEL over the trial's workload object (`self`). A Study is
 * untrusted, so an expression is accepted only if its cost is bounded by construction: it is
 * short, and a macro (all, exists, exists_one, map, filter) may neither nest nor read anything
 * but its own variable in its body. Evaluation then costs at most (expression size) × (object
 * size): no expression can loop over the object once per element of the object.
 */

export const MAX_CEL_LENGTH = 2048;
const MAX_CEL_NODES = 512;

const env = celEnv({ variables: { self: CelScalar.DYN } });

/** A checked expression, ready to evaluate. */
export interface CelCondition {
  source: string;
  evaluate(self: unknown): boolean | { error: string };
}

type Type = string; // a CEL type name, or 'dyn' when only known at run time

interface Walk {
  nodes: number;
  /** Names bound by the enclosing macro; undefined outside one. */
  loopVars?: ReadonlySet<string>;
}

function fail(message: string): never {
  throw new CelCheckError(message);
}

export class CelCheckError extends Error {
  override name = 'CelCheckError';
}

function constType(e: Extract<Expr['exprKind'], { case: 'constExpr' }>['value']): Type {
  switch (e.constantKind.case) {
    case 'boolValue':
      return 'bool';
    case 'int64Value':
      return 'int';
    case 'uint64Value':
      return 'uint';
    case 'doubleValue':
      return 'double';
    case 'stringValue':
      return 'string';
    case 'bytesValue':
      return 'bytes';
    case 'nullValue':
      return 'null_type';
    default:
      return 'dyn';
  }
}

/** Operators the evaluator implements itself rather than as declared functions, and their type. */
const OPERATORS: Record<string, Type> = {
  '_&&_': 'bool',
  '_||_': 'bool',
  '!_': 'bool',
  '@not_strictly_false': 'bool',
  '_==_': 'bool',
  '_!=_': 'bool',
  '@in': 'bool',
  '_?_:_': 'dyn',
};

/** The type a call returns, after checking that some overload takes its arguments. */
function callType(name: string, target: Type | undefined, args: Type[]): Type {
  const special = OPERATORS[name];
  if (special) return special;
  const group = env.funcs.find(name);
  if (!group) fail(`undeclared reference to '${name}'`);
  // list(int) and list(dyn) are both lists here: element types are only known at run time.
  const base = (t: unknown) => String(t).replace(/\(.*$/, '');
  const fits = (declared: unknown, actual: Type) =>
    actual === 'dyn' || base(declared) === 'dyn' || base(declared) === actual;
  const overloads = [...group].filter(
    (f) =>
      f.arguments.length === args.length &&
      (f.target === undefined) === (target === undefined) &&
      (target === undefined || f.target === undefined || fits(f.target, target)) &&
      f.arguments.every((a, i) => fits(a, args[i] as Type)),
  );
  if (overloads.length === 0) {
    const shown = `${target !== undefined ? `${target}.` : ''}${name.replace(/^_(.+)_$/, '$1')}(${args.join(', ')})`;
    fail(`found no matching overload for ${shown}`);
  }
  const results = new Set(overloads.map((f) => base(f.result)));
  return results.size === 1 ? ([...results][0] as Type) : 'dyn';
}

function typeOf(e: Expr, w: Walk): Type {
  if (++w.nodes > MAX_CEL_NODES) fail(`has more than ${MAX_CEL_NODES} terms`);
  const k = e.exprKind;
  switch (k.case) {
    case 'constExpr':
      return constType(k.value);
    case 'identExpr':
      if (w.loopVars ? !w.loopVars.has(k.value.name) : k.value.name !== 'self')
        fail(
          w.loopVars
            ? `inside a macro only its own variable may be used, not '${k.value.name}' (this bounds the cost)`
            : `undeclared reference to '${k.value.name}' (the object is 'self')`,
        );
      return 'dyn';
    case 'selectExpr':
      if (k.value.operand) typeOf(k.value.operand, w);
      return k.value.testOnly ? 'bool' : 'dyn';
    case 'callExpr': {
      const target = k.value.target ? typeOf(k.value.target, w) : undefined;
      return callType(
        k.value.function,
        target,
        k.value.args.map((a) => typeOf(a, w)),
      );
    }
    case 'listExpr':
      k.value.elements.forEach((x) => typeOf(x, w));
      return 'list';
    case 'structExpr':
      if (k.value.messageName) fail(`message construction (${k.value.messageName}) is not supported`);
      for (const entry of k.value.entries) {
        if (entry.keyKind.case === 'mapKey') typeOf(entry.keyKind.value, w);
        if (entry.value) typeOf(entry.value, w);
      }
      return 'map';
    case 'comprehensionExpr': {
      const c = k.value;
      if (w.loopVars)
        fail('macros (all, exists, exists_one, map, filter) cannot be nested (this bounds the cost)');
      if (c.iterRange) typeOf(c.iterRange, w);
      if (c.accuInit) typeOf(c.accuInit, w);
      const inner: Walk = { nodes: w.nodes, loopVars: new Set([c.iterVar, c.accuVar]) };
      for (const part of [c.loopCondition, c.loopStep]) if (part) typeOf(part, inner);
      const result = c.result ? typeOf(c.result, inner) : 'dyn';
      w.nodes = inner.nodes;
      return result;
    }
    default:
      fail('is not a CEL expression kubetune can check');
  }
}

/**
 * Parses and type-checks a condition; throws CelCheckError with the CEL error (its position in
 * the expression, and what is wrong) when it cannot be used.
 */
export function compileCondition(source: string): CelCondition {
  if (source.length > MAX_CEL_LENGTH)
    fail(`is ${source.length} characters long; at most ${MAX_CEL_LENGTH} are allowed`);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (err) {
    fail((err as Error).message);
  }
  const type = typeOf(parsed.expr, { nodes: 0 });
  if (type !== 'bool' && type !== 'dyn') fail(`must evaluate to a bool, but evaluates to ${type}`);
  const run = plan(env, parsed);
  return {
    source,
    evaluate(self: unknown) {
      const result: CelValue | { message: string } = run({ self: celInput(self) as never });
      if (isCelError(result)) return { error: result.message };
      if (typeof result !== 'boolean') return { error: `evaluated to ${typeof result}, not a bool` };
      return result;
    },
  };
}

/** Why the condition cannot be used, or undefined when it can. */
export function conditionProblem(source: string): string | undefined {
  try {
    compileCondition(source);
    return undefined;
  } catch (err) {
    if (err instanceof CelCheckError) return err.message;
    throw err;
  }
}

/** JSON as the apiserver's CEL sees it: whole numbers are ints. */
function celInput(value: unknown): unknown {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (Array.isArray(value)) return value.map(celInput);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, celInput(v)]));
  return value;
}
