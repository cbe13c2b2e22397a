import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatZodError } from '../../../src/api/errors.js';
import { parseStudyManifest } from '../../../src/api/manifest.js';
import { StudySpec } from '../../../src/api/study.js';
import { specInput } from '../../support/specs.js';

function errorsOf(input: unknown): string[] {
  const r = StudySpec.safeParse(input, { reportInput: true });
  assert.equal(r.success, false, 'expected the spec to be rejected');
  return formatZodError(r.error!).map((e) => `${e.path}: ${e.message}`);
}

function withParam(param: Record<string, unknown>) {
  const input = specInput({ parameters: [param] as never });
  (input.trialTemplate.spec.template!.spec.containers[0] as { args: string[] }).args = ['${trial.name}'];
  return input;
}

describe('Study spec schema', () => {
  it('accepts the contract parameter shapes and fills defaults', () => {
    const s = StudySpec.parse(specInput());
    assert.equal(s.parameters.length, 4);
    assert.equal(s.parallelism, 1);
    assert.equal(s.metrics.format, 'keyvalue');
    assert.deepEqual(s.objective?.additionalMetrics, []);
  });

  it('rejects an unknown algorithm and lists the allowed ones', () => {
    const errs = errorsOf(specInput({ algorithm: { name: 'hillclimb' } as never }));
    assert.deepEqual(errs, [
      'algorithm.name: invalid value "hillclimb"; allowed: random, grid, sobol, tpe, bayesian, cmaes, nsga2',
    ]);
  });

  it('rejects min >= max', () => {
    const errs = errorsOf(withParam({ name: 'lr', type: 'double', min: 1, max: 1 }));
    assert.deepEqual(errs, ['parameters[0].max: min must be less than max']);
  });

  it('rejects log scale with min <= 0', () => {
    const errs = errorsOf(withParam({ name: 'lr', type: 'double', min: 0, max: 1, log: true }));
    assert.deepEqual(errs, ['parameters[0].min: log: true needs min > 0']);
  });

  it('rejects an empty categorical', () => {
    const errs = errorsOf(withParam({ name: 'opt', type: 'categorical', values: [] }));
    assert.deepEqual(errs, ['parameters[0].values: categorical parameters need a non-empty values list']);
  });

  it('rejects non-integer bounds for int parameters, and min/max on categoricals', () => {
    assert.deepEqual(errorsOf(withParam({ name: 'n', type: 'int', min: 1.5, max: 4 })), [
      'parameters[0].type: int parameters need whole-number min, max and step',
    ]);
    assert.deepEqual(errorsOf(withParam({ name: 'o', type: 'categorical', values: ['a'], min: 1 })), [
      'parameters[0].type: categorical parameters take values, not min, max, step or log',
    ]);
  });

  it('rejects a substitution naming an unknown parameter, with the path of the argument', () => {
    const input = specInput();
    (input.trialTemplate.spec.template!.spec.containers[0] as { args: string[] }).args = [
      '--lr',
      '${params.lr}',
    ];
    const errs = errorsOf(input);
    assert.equal(errs.length, 1);
    assert.match(
      errs[0]!,
      /^trialTemplate\.spec\.template\.spec\.containers\[0\]\.args\[1\]: \$\{params\.lr\} names unknown parameter "lr"/,
    );
  });

  it('rejects negative parallelism, duplicate names and unknown fields', () => {
    assert.deepEqual(errorsOf(specInput({ parallelism: -1 })), ['parallelism: must be >= 1, got -1']);
    const dup = specInput();
    dup.parameters = [dup.parameters[0]!, dup.parameters[0]!];
    assert.deepEqual(errorsOf(dup), ['parameters: parameter names must be unique']);
    assert.deepEqual(errorsOf({ ...specInput(), maxTrail: 3 }), ['(root): unknown field(s) "maxTrail"']);
  });

  it('needs a regex with named groups for the regex format', () => {
    assert.deepEqual(errorsOf(specInput({ metrics: { format: 'regex' } as never })), [
      'metrics.regex: format regex needs a regex with named groups name and value',
    ]);
    assert.deepEqual(errorsOf(specInput({ metrics: { format: 'regex', regex: '(' } as never })), [
      'metrics.regex: is not a pattern RE2 accepts (metric patterns run on RE2, which has no lookaround or backreferences): error parsing regexp: missing closing ): `(`',
      'metrics.regex: regex must have named groups (?<name>...) and (?<value>...)',
    ]);
  });
});

describe('Study manifest loading', () => {
  const valid = `apiVersion: kubetune.io/v1alpha1
kind: Study
metadata:
  name: demo
spec:
  objective: {metric: loss, goal: minimize}
  parameters:
    - {name: lr, type: double, min: 0.1, max: 0.01}
  trialTemplate:
    spec:
      template:
        spec:
          containers:
            - name: t
              command: [train, "\${params.lr}"]
`;

  it('points each error at its YAML line', () => {
    const r = parseStudyManifest(valid);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(r.errors, [
      { path: 'spec.parameters[0].max', message: 'min must be less than max', line: 8 },
    ]);
  });

  it('reports YAML syntax errors with a line', () => {
    const r = parseStudyManifest('kind: Study\nspec: [\n');
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.errors[0]!.path, '(yaml)');
    assert.ok(r.errors[0]!.line !== undefined);
  });

  it('finds the Study among several documents', () => {
    const r = parseStudyManifest(
      `kind: ConfigMap\n---\n${valid.replace('min: 0.1, max: 0.01', 'min: 0.01, max: 0.1')}`,
    );
    assert.equal(r.ok, true);
  });
});
