// spec.objectives and spec.constraints: zod (kubetune validate, the ask/tell API) and the CRD's
// CEL must give the same verdicts; the CEL runs in an independent evaluator here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { studyCrd } from '../../../src/api/crd.js';
import { formatZodError } from '../../../src/api/errors.js';
import { StudySpec } from '../../../src/api/study.js';
import { celInput, evalCel } from '../../support/cel.js';
import { specInput } from '../../support/specs.js';

type Json = Record<string, unknown>;
interface Rule {
  rule: string;
  message: string;
}

const TWO = [
  { metric: 'val_accuracy', goal: 'maximize' },
  { metric: 'epoch_seconds', goal: 'minimize' },
];

/** A spec without `objective`, as a user would write one with several objectives. */
function multiInput(over: Json = {}): Json {
  const { objective: _dropped, ...rest } = specInput() as unknown as Json;
  return { ...rest, objectives: TWO, algorithm: { name: 'tpe' }, ...over };
}

function errorsOf(input: unknown): string[] {
  const r = StudySpec.safeParse(input, { reportInput: true });
  if (r.success) return [];
  return formatZodError(r.error).map((e) => `${e.path}: ${e.message}`);
}

const specSchema = () =>
  (
    ((studyCrd()['spec'] as { versions: Json[] }).versions[0]!['schema'] as { openAPIV3Schema: Json })
      .openAPIV3Schema['properties'] as Json
  )['spec'] as Json;
const specRule = (text: string) =>
  (specSchema()['x-kubernetes-validations'] as Rule[]).find((r) => r.rule.includes(text))!;
const constraintRule = () =>
  (
    (((specSchema()['properties'] as Json)['constraints'] as Json)['items'] as Json)[
      'x-kubernetes-validations'
    ] as Rule[]
  )[0]!;

describe('spec.objectives', () => {
  it('takes two or more objectives in place of objective', () => {
    const s = StudySpec.parse(multiInput());
    assert.deepEqual(s.objectives, TWO);
    assert.equal(s.objective, undefined);
  });

  it('refuses both forms at once, and neither, in zod and in CEL alike', () => {
    const both = multiInput({ objective: { metric: 'loss', goal: 'minimize' } });
    const { objectives: _o, ...neither } = multiInput();
    const rule = specRule('has(self.objectives)');
    const message = 'give exactly one of objective (one metric) or objectives (two or more metrics)';
    assert.equal(rule.message, message);
    for (const bad of [both, neither]) {
      assert.deepEqual(errorsOf(bad), [`objective: ${message}`]);
      assert.equal(evalCel(rule.rule, { self: celInput(bad) }), false);
    }
    assert.equal(evalCel(rule.rule, { self: celInput(multiInput()) }), true);
    assert.equal(evalCel(rule.rule, { self: celInput(specInput()) }), true);
  });

  it('needs at least two objectives', () => {
    assert.deepEqual(errorsOf(multiInput({ objectives: [TWO[0]] })), [
      'objectives: needs at least 2 item(s)',
    ]);
  });
});

describe('spec.constraints', () => {
  it('takes a max or a min bound', () => {
    const s = StudySpec.parse(
      specInput({
        constraints: [
          { metric: 'memory_gb', max: 4 },
          { metric: 'throughput', min: 100 },
        ],
      }),
    );
    assert.deepEqual(s.constraints, [
      { metric: 'memory_gb', max: 4 },
      { metric: 'throughput', min: 100 },
    ]);
  });

  it('refuses a constraint with both bounds or none, in zod and in CEL alike', () => {
    const rule = constraintRule();
    assert.equal(rule.message, 'a constraint needs exactly one bound: max or min');
    for (const bad of [{ metric: 'm', max: 1, min: 0 }, { metric: 'm' }]) {
      assert.deepEqual(errorsOf(specInput({ constraints: [bad] as never })), [
        'constraints[0].max: a constraint needs exactly one bound: max or min',
      ]);
      assert.equal(evalCel(rule.rule, { self: celInput(bad) }), false);
    }
    assert.equal(evalCel(rule.rule, { self: celInput({ metric: 'm', min: 0 }) }), true);
  });
});
