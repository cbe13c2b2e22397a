// Rules that need more than one field of the spec: Study names (zod for `kubetune validate`, the
// CRD's root CEL for the apiserver, held to the same answers here), and the transition rules
// that freeze a Study's search space and a finished Trial's result. CEL runs in an independent
// evaluator; test/integration/admission.test.ts runs it in the real apiserver.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { studyCrd, trialCrd } from '../../../src/api/crd.js';
import { parseStudyManifest } from '../../../src/api/manifest.js';
import { longestStudyName, STUDY_NAME_RULES, STUDY_TRANSITION_RULES } from '../../../src/api/study.js';
import { celInput, evalCel } from '../../support/cel.js';
import { runCli } from '../../support/run-cli.js';
import { specInput } from '../../support/specs.js';

type Json = Record<string, unknown>;
interface Rule {
  rule: string;
  message: string;
}

const schemaOf = (crd: Json) =>
  ((crd['spec'] as { versions: Json[] }).versions[0]!['schema'] as { openAPIV3Schema: Json }).openAPIV3Schema;
const rootRules = () => schemaOf(studyCrd())['x-kubernetes-validations'] as Rule[];
const trialStatusRules = () =>
  ((schemaOf(trialCrd())['properties'] as Json)['status'] as Json)['x-kubernetes-validations'] as Rule[];

const manifest = (name: string | undefined, maxTrials?: number) =>
  stringify({
    apiVersion: 'kubetune.io/v1alpha1',
    kind: 'Study',
    metadata: name === undefined ? {} : { name },
    spec: specInput(maxTrials === undefined ? {} : { maxTrials }),
  });

function nameErrors(name: string | undefined, maxTrials?: number): string[] {
  const r = parseStudyManifest(manifest(name, maxTrials));
  return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
}

const letters = (n: number) => 'a'.repeat(n);

describe('Study names', () => {
  it('leave room for <name>-<maxTrials-1>-xxxxx in 63 characters', () => {
    assert.equal(longestStudyName(100000), 51); // study-99999-xxxxx
    assert.equal(longestStudyName(20), 54);
    assert.equal(longestStudyName(1), 55);
    for (const maxTrials of [1, 20, 100000]) {
      const longest = letters(longestStudyName(maxTrials));
      assert.ok(`${longest}-${maxTrials - 1}-xxxxx`.length === 63, 'the longest pod name is exactly 63');
      assert.deepEqual(nameErrors(longest, maxTrials), []);
    }
  });

  it('are refused by zod when a derived name would not fit, saying how long they may be', () => {
    assert.deepEqual(nameErrors(letters(52), 100000), [
      'metadata.name: metadata.name is 52 characters; with spec.maxTrials 100000 the last trial pod is named <name>-99999-xxxxx, which must fit in 63 characters: use at most 51 characters',
    ]);
    assert.equal(nameErrors(letters(55)).length, 1, 'default maxTrials 20 allows 54');
  });

  it('must be DNS labels', () => {
    for (const bad of ['Demo', 'demo.v2', '-demo', 'demo_1'])
      assert.match(nameErrors(bad).join(), /metadata\.name: metadata\.name must be a DNS label/, bad);
    assert.deepEqual(nameErrors('demo-2'), []);
    assert.deepEqual(nameErrors(undefined), [], 'a local Study file may have no name');
  });

  it('get the same answers from the CRD root CEL', () => {
    const rules = rootRules().slice(0, STUDY_NAME_RULES.length);
    assert.deepEqual(
      rules.map((r) => r.rule),
      STUDY_NAME_RULES.map((r) => r.cel),
    );
    for (const name of [
      'a',
      'demo-2',
      'Demo',
      'x.y',
      '-a',
      letters(51),
      letters(52),
      letters(54),
      letters(55),
      letters(63),
    ]) {
      for (const maxTrials of [1, 10, 11, 20, 1000, 99999, 100000]) {
        const value = { metadata: { name }, spec: { maxTrials } };
        const self = celInput(value);
        STUDY_NAME_RULES.forEach((rule, i) => {
          const cel = evalCel(rules[i]!.rule, { self });
          assert.equal(cel, rule.holds(value), `${rule.cel} for ${name} / ${maxTrials}`);
        });
      }
    }
  });

  it('caps metadata.name at 63 characters in the CRD schema itself', () => {
    assert.deepEqual((schemaOf(studyCrd())['properties'] as Json)['metadata'], {
      type: 'object',
      properties: { name: { type: 'string', maxLength: 63 } },
    });
  });

  it('are explained by kubetune validate with the line', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kt-name-')), 'long.yaml');
    writeFileSync(file, manifest(letters(60), 100000));
    const res = await runCli(['validate', file]);
    assert.equal(res.code, 1);
    assert.match(
      res.stderr,
      /long\.yaml:4: metadata\.name: metadata\.name is 60 characters; .* use at most 51 characters/,
    );
  });
});

describe('transition rules', () => {
  // Through JSON, so a field overridden with undefined is absent, as in a stored object.
  const study = (over: Json = {}, trials?: number) =>
    celInput(
      JSON.parse(
        JSON.stringify({
          metadata: { name: 'demo' },
          spec: { ...specInput(), maxTrials: 20, ...over },
          ...(trials === undefined ? {} : { status: { phase: 'Running', trials: { total: trials } } }),
        }),
      ),
    );
  const frozen = () => rootRules().slice(STUDY_NAME_RULES.length);
  const verdicts = (oldSelf: unknown, self: unknown) =>
    frozen().map((r) => evalCel(r.rule, { self, oldSelf }));

  it('are the Study root rules that compare against oldSelf', () => {
    assert.deepEqual(
      frozen().map((r) => [r.rule, r.message]),
      STUDY_TRANSITION_RULES.map((r) => [r.cel, r.message]),
    );
    assert.match(frozen()[0]!.message, /^spec\.parameters cannot change once the Study has trials/);
    assert.match(frozen()[1]!.message, /^spec\.objective cannot change once the Study has trials/);
  });

  it('freeze spec.parameters and spec.objective once the Study has trials', () => {
    const params = { parameters: [{ name: 'lr', type: 'double', min: 0.1, max: 0.2 }] };
    const objective = { objective: { metric: 'acc', goal: 'maximize' } };
    assert.deepEqual(verdicts(study({}, 3), study(params, 3)), [false, true, true, true]);
    assert.deepEqual(verdicts(study({}, 3), study(objective, 3)), [true, false, true, true]);
    assert.deepEqual(verdicts(study({}, 3), study({ maxTrials: 40, parallelism: 4 }, 3)), [
      true,
      true,
      true,
      true,
    ]);
  });

  it('freeze spec.objectives and spec.constraints, and the switch between objective and objectives', () => {
    const two = [
      { metric: 'acc', goal: 'maximize' },
      { metric: 'latency', goal: 'minimize' },
    ];
    const multi = { objective: undefined, objectives: two };
    const constrained = { constraints: [{ metric: 'memory', max: 4 }] };
    assert.deepEqual(verdicts(study({}, 3), study(multi, 3)), [true, false, false, true]);
    assert.deepEqual(verdicts(study(multi, 3), study({ ...multi, objectives: [...two].reverse() }, 3)), [
      true,
      true,
      false,
      true,
    ]);
    assert.deepEqual(verdicts(study({}, 3), study(constrained, 3)), [true, true, true, false]);
    assert.deepEqual(verdicts(study(constrained, 3), study(constrained, 3)), [true, true, true, true]);
    assert.deepEqual(verdicts(study({}, 0), study({ ...multi, ...constrained }, 0)), [
      true,
      true,
      true,
      true,
    ]);
  });

  it('let anything change before the first trial', () => {
    const changed = {
      parameters: [{ name: 'lr', type: 'double', min: 0.1, max: 0.2 }],
      objective: { metric: 'acc', goal: 'maximize' },
    };
    assert.deepEqual(verdicts(study(), study(changed)), [true, true, true, true]);
    assert.deepEqual(verdicts(study({}, 0), study(changed, 0)), [true, true, true, true]);
  });

  it("keep a finished Trial's state and objective", () => {
    const [rule] = trialStatusRules();
    assert.ok(rule);
    const check = (oldSelf: Json, self: Json) =>
      evalCel(rule.rule, { oldSelf: celInput(oldSelf), self: celInput(self) });
    const done = { state: 'Succeeded', objective: 0.25, completionTime: '2025-01-01T00:00:00Z' };
    assert.equal(check(done, { ...done, state: 'Failed' }), false);
    assert.equal(check(done, { ...done, objective: 0.1 }), false);
    assert.equal(check(done, { state: 'Succeeded' }), false, 'the objective cannot be dropped');
    assert.equal(check({ state: 'Pruned' }, { state: 'Running' }), false);
    assert.equal(
      check(done, { ...done, intermediate: [{ step: 1, value: 0.3 }] }),
      true,
      'late details may still land',
    );
    assert.equal(check({ state: 'Running' }, done), true, 'a running trial may finish');
    assert.equal(check({ state: 'Pending' }, { state: 'Running' }), true);
    assert.match(rule.message, /^a finished Trial .* keeps its state and objective/);
  });
});
