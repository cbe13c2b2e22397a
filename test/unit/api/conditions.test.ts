// Conditional parameters (parameters[].when) through the schema, the CRD's CEL, placeholders
// and the search space's reading of Trial parameters.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONDITION_PARENT_RULE } from '../../../src/api/conditions.js';
import { formatZodError } from '../../../src/api/errors.js';
import { StudySpec, type StudySpecInput } from '../../../src/api/study.js';
import { SearchSpace } from '../../../src/engine/search-space.js';
import { renderWorkload } from '../../../src/engine/trial-template.js';
import { celInput, evalCel } from '../../support/cel.js';
import { specInput } from '../../support/specs.js';

const base = [
  { name: 'optimizer', type: 'categorical', values: ['sgd', 'adam'] },
  { name: 'layers', type: 'int', min: 1, max: 4, step: 1 },
  { name: 'lr', type: 'double', min: 0.001, max: 0.1 },
];

function input(extra: Record<string, unknown>[], args = ['${params.lr}']): StudySpecInput {
  const spec = specInput({ parameters: [...base, ...extra] as never });
  (spec.trialTemplate.spec.template!.spec.containers[0] as { args: string[] }).args = args;
  return spec;
}

function errorsOf(spec: StudySpecInput): string[] {
  const r = StudySpec.safeParse(spec, { reportInput: true });
  return r.success ? [] : formatZodError(r.error).map((e) => `${e.path}: ${e.message}`);
}

const momentum = (when: unknown) => ({ name: 'momentum', type: 'double', min: 0, max: 1, when });

describe('parameters[].when', () => {
  it('accepts a categorical or int parent with values among its own', () => {
    assert.deepEqual(errorsOf(input([momentum({ parameter: 'optimizer', in: ['sgd'] })])), []);
    assert.deepEqual(errorsOf(input([momentum({ parameter: 'layers', in: ['2', '4'] })])), []);
  });

  it('refuses a parent that is missing, itself or a double, naming the parameter and the reason', () => {
    assert.deepEqual(errorsOf(input([momentum({ parameter: 'opt', in: ['sgd'] })])), [
      'parameters: parameters[3].when.parameter: "opt" is not a parameter of this study (parameters: optimizer, layers, lr, momentum)',
    ]);
    assert.deepEqual(errorsOf(input([momentum({ parameter: 'lr', in: ['0.01'] })])), [
      'parameters: parameters[3].when.parameter: "lr" is a double; a condition needs a categorical or int parent',
    ]);
    assert.deepEqual(errorsOf(input([momentum({ parameter: 'momentum', in: ['1'] })])), [
      'parameters: parameters[3].when.parameter: momentum cannot depend on itself',
    ]);
  });

  it('refuses values the parent cannot take, saying what it can take', () => {
    assert.deepEqual(errorsOf(input([momentum({ parameter: 'optimizer', in: ['sgd', 'rmsprop'] })])), [
      'parameters[3].when.in[1]: "rmsprop" is not a value of categorical parameter optimizer: use one of sgd, adam',
    ]);
    assert.deepEqual(errorsOf(input([momentum({ parameter: 'layers', in: ['5', '2.0'] })])), [
      'parameters[3].when.in[0]: "5" is not a value of int parameter layers: use a whole number in [1, 4] on step 1 from 1, written as a string such as "1"',
      'parameters[3].when.in[1]: "2.0" is not a value of int parameter layers: use a whole number in [1, 4] on step 1 from 1, written as a string such as "1"',
    ]);
    assert.deepEqual(errorsOf(input([momentum({ parameter: 'optimizer', in: [] })])), [
      'parameters[3].when.in: needs at least 1 item(s)',
    ]);
  });

  it('refuses cycles of conditions', () => {
    const a = { name: 'a', type: 'int', min: 0, max: 3, when: { parameter: 'b', in: ['1'] } };
    const b = { name: 'b', type: 'int', min: 0, max: 3, when: { parameter: 'a', in: ['1'] } };
    assert.deepEqual(errorsOf(input([a, b])), [
      'parameters[3].when.parameter: conditions form a cycle (a → b → a): some parameter must be unconditional',
      'parameters[4].when.parameter: conditions form a cycle (b → a → b): some parameter must be unconditional',
    ]);
  });

  it("the CRD's CEL rule agrees with zod on the parent", () => {
    const cases = [
      [momentum({ parameter: 'optimizer', in: ['sgd'] }), true],
      [momentum({ parameter: 'layers', in: ['2'] }), true],
      [momentum({ parameter: 'opt', in: ['sgd'] }), false],
      [momentum({ parameter: 'lr', in: ['1'] }), false],
      [momentum({ parameter: 'momentum', in: ['1'] }), false],
    ] as const;
    for (const [param, ok] of cases) {
      const self = { parameters: [...base, param] };
      assert.equal(evalCel(CONDITION_PARENT_RULE.cel, { self: celInput(self) }), ok, JSON.stringify(param));
      assert.equal(CONDITION_PARENT_RULE.holds(self as never), ok, JSON.stringify(param));
    }
  });
});

describe('placeholders of conditional parameters', () => {
  const when = { parameter: 'optimizer', in: ['sgd'] };

  it('refuse ${params.X} for a conditional X, and say how to write it', () => {
    assert.deepEqual(errorsOf(input([momentum(when)], ['--momentum=${params.momentum}'])), [
      'trialTemplate.spec.template.spec.containers[0].args[0]: ${params.momentum} names conditional parameter "momentum", which has no value while its "when" does not hold: write ${params.momentum?} to drop the whole item (or env variable) in that case, e.g. "--momentum=${params.momentum?}"',
    ]);
    assert.deepEqual(errorsOf(input([momentum(when)], ['${params.nope?}'])), [
      'trialTemplate.spec.template.spec.containers[0].args[0]: ${params.nope?} names unknown parameter "nope" (parameters: optimizer, layers, lr, momentum)',
    ]);
  });

  it('drop the whole args item and env variable of an inactive parameter, and fill them in when active', () => {
    const spec = input([momentum(when)], ['--lr=${params.lr}', '--momentum=${params.momentum?}']);
    const container = spec.trialTemplate.spec.template!.spec.containers[0] as { env?: unknown[] };
    container.env = [
      { name: 'MOMENTUM', value: '${params.momentum?}' },
      { name: 'KEEP', value: 'x' },
    ];
    const parsed = StudySpec.parse(spec);
    const render = (params: Record<string, string>) =>
      renderWorkload(parsed.trialTemplate, { study: 's', name: 's-0', index: 0, params }).spec.template!.spec
        .containers[0];
    const adam = render({ optimizer: 'adam', layers: '1', lr: '0.01' });
    assert.deepEqual(adam?.args, ['--lr=0.01']);
    assert.deepEqual(adam?.env, [{ name: 'KEEP', value: 'x' }]);
    const sgd = render({ optimizer: 'sgd', layers: '1', lr: '0.01', momentum: '0.9' });
    assert.deepEqual(sgd?.args, ['--lr=0.01', '--momentum=0.9']);
    assert.deepEqual(sgd?.env, [
      { name: 'MOMENTUM', value: '0.9' },
      { name: 'KEEP', value: 'x' },
    ]);
  });
});

describe('reading Trial parameters of a conditional space', () => {
  const space = new SearchSpace(
    StudySpec.parse(input([momentum({ parameter: 'optimizer', in: ['sgd'] })])).parameters,
  );

  it('needs active parameters, refuses values for inactive ones', () => {
    assert.deepEqual(space.parse({ optimizer: 'adam', layers: '2', lr: '0.01' }), {
      optimizer: 'adam',
      layers: 2,
      lr: 0.01,
    });
    assert.throws(
      () => space.parse({ optimizer: 'sgd', layers: '2', lr: '0.01' }),
      /parameter momentum is missing/,
    );
    assert.throws(
      () => space.parse({ optimizer: 'adam', layers: '2', lr: '0.01', momentum: '0.5' }),
      /parameter momentum has a value but is inactive: it needs optimizer in \[sgd\]/,
    );
    assert.equal(space.contains({ optimizer: 'adam', layers: 2, lr: 0.01, momentum: 0.5 }), false);
    assert.equal(space.contains({ optimizer: 'sgd', layers: 2, lr: 0.01 }), false);
  });
});
