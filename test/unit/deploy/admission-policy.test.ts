// The chart's ValidatingAdmissionPolicy, rendered by a real helm, and proof that its CEL and the
// operator's own pod policy check (src/operator/policy) refuse exactly the same templates. The
// real apiserver runs this policy in test/integration/admission.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  POLICY_TEMPLATE_FILE,
  POLICY_VALIDATIONS,
  renderPolicyTemplate,
} from '../../../src/operator/policy/admission-cel.js';
import {
  apiGroup,
  JOB,
  JOBSET,
  TRAINJOB,
  unconfiguredKindMessage,
  type TrialKind,
  type WorkloadType,
} from '../../../src/api/workload-kinds.js';
import { podPolicyViolations } from '../../../src/operator/policy/check.js';
import type { PodPolicySettings } from '../../../src/operator/policy/rules.js';
import { celInput, evalCel } from '../../support/cel.js';
import type { K8sObject } from '../../support/helm.js';
import { chartDir, findObject, helm, renderChart, repoRoot } from '../../support/helm.js';
import { podTemplateCorpus, studyWithPod } from '../../support/pod-templates.js';

interface Validation {
  expression: string;
  messageExpression: string;
  message: string;
  reason: string;
}
interface PolicySpec {
  failurePolicy: string;
  matchConstraints: { resourceRules: { apiGroups: string[]; operations: string[]; resources: string[] }[] };
  matchConditions: { name: string; expression: string }[];
  variables: { name: string; expression: string }[];
  validations: Validation[];
}

const policyOf = (objs: K8sObject[]) =>
  findObject(objs, 'ValidatingAdmissionPolicy')['spec'] as unknown as PolicySpec;
const bindingOf = (objs: K8sObject[]) =>
  findObject(objs, 'ValidatingAdmissionPolicyBinding')['spec'] as {
    policyName: string;
    validationActions: string[];
    matchResources: { namespaceSelector: Record<string, unknown> };
  };

/** Validations before the pod policy's: the trial kind is configured, and the author may create it. */
const KIND_CHECKS = 2;
const KIND_CHECK =
  "size(variables.trialResource) != 2 || authorizer.group(variables.trialResource[0]).resource(variables.trialResource[1]).namespace(request.namespace).check('create').allowed()";

/** The policy's variables for a Study, in order, as the apiserver computes them. */
function celVariables(
  policy: PolicySpec,
  study: unknown,
): { object: unknown; variables: Record<string, unknown> } {
  const object = celInput(study);
  const variables: Record<string, unknown> = {};
  for (const v of policy.variables) variables[v.name] = evalCel(v.expression, { object, variables });
  return { object, variables };
}

/** Evaluates the rendered policy's pod validations on a Study; returns the ids of the failing rules and their messages. */
function celRefusals(policy: PolicySpec, study: unknown): Map<string, string> {
  const { object, variables } = celVariables(policy, study);
  const out = new Map<string, string>();
  policy.validations.slice(KIND_CHECKS).forEach((v, i) => {
    if (evalCel(v.expression, { object, variables }) === true) return;
    const message = evalCel(v.messageExpression, { object, variables });
    assert.equal(
      typeof message,
      'string',
      `messageExpression of ${POLICY_VALIDATIONS[i]!.rule} yields a string`,
    );
    out.set(POLICY_VALIDATIONS[i]!.rule, message as string);
  });
  return out;
}

const settingsCases: { sets: string[]; settings: PodPolicySettings }[] = [
  { sets: [], settings: { profile: 'baseline', allowedServiceAccounts: ['default'] } },
  {
    sets: ['trialPodPolicy.profile=privileged'],
    settings: { profile: 'privileged', allowedServiceAccounts: ['default'] },
  },
  {
    sets: ['trialPodPolicy.allowedServiceAccounts={builder,default}'],
    settings: { profile: 'baseline', allowedServiceAccounts: ['builder', 'default'] },
  },
  {
    sets: ['trialPodPolicy.allowedServiceAccounts={builder}'],
    settings: { profile: 'baseline', allowedServiceAccounts: ['builder'] },
  },
  {
    sets: ['trialPodPolicy.allowedServiceAccounts={*}'],
    settings: { profile: 'baseline', allowedServiceAccounts: ['*'] },
  },
];

describe('admission policy in the chart', () => {
  const objs = renderChart();

  it('matches what src/operator/policy generates (run npm run gen:crds after changing the rules)', () => {
    assert.equal(readFileSync(join(repoRoot, POLICY_TEMPLATE_FILE), 'utf8'), renderPolicyTemplate());
  });

  it('checks Study creates and spec updates, failing closed, the trial kind and the right to create it first', () => {
    const policy = policyOf(objs);
    assert.equal(policy.failurePolicy, 'Fail');
    assert.deepEqual(policy.matchConstraints.resourceRules, [
      {
        apiGroups: ['kubetune.io'],
        apiVersions: ['*'],
        operations: ['CREATE', 'UPDATE'],
        resources: ['studies'],
      },
    ]);
    assert.deepEqual(policy.matchConditions, [
      { name: 'spec-written', expression: "request.operation == 'CREATE' || object.spec != oldObject.spec" },
    ]);
    assert.equal(policy.validations[0]!.expression, 'size(variables.trialResource) == 2');
    assert.equal(policy.validations[0]!.reason, 'Invalid');
    assert.equal(policy.validations[1]!.expression, KIND_CHECK);
    assert.deepEqual(
      policy.validations.slice(KIND_CHECKS),
      POLICY_VALIDATIONS.map((v) => v.validation),
    );
    for (const v of policy.validations.slice(1)) assert.equal(v.reason, 'Forbidden');
  });

  describe('follows the trial kind, for each of trialKinds', () => {
    const kinds: TrialKind[] = [
      { ...JOB, resource: 'jobs' },
      { ...JOBSET, resource: 'jobsets' },
      { apiVersion: 'example.com/v1', kind: 'Gadget', resource: 'gadgetries' },
    ];
    const policy = policyOf(
      renderChart(
        kinds.flatMap((k, i) => [
          `trialKinds[${i}].apiVersion=${k.apiVersion}`,
          `trialKinds[${i}].kind=${k.kind}`,
          ...(k.kind === 'Gadget' ? [`trialKinds[${i}].resource=${k.resource}`] : []),
        ]),
      ),
    );
    const request = { namespace: 'team-a', userInfo: { username: 'alice' } };
    const studyOf = (type?: WorkloadType) => ({
      metadata: { name: 's', namespace: 'team-a' },
      spec: { trialTemplate: { ...type, spec: { template: { spec: { containers: [] } } } } },
    });
    // This CEL has no authorizer; the apiserver's runs in test/integration/admission.test.ts. What
    // is checked here is the part before it: true only where no authorizer call is needed.
    const evaluate = (v: Validation, study: unknown) => {
      const { object, variables } = celVariables(policy, study);
      return {
        allowed: evalCel(v.expression.split(' || authorizer.')[0]!, { object, variables, request }),
        message: evalCel(v.messageExpression, { object, variables, request }),
      };
    };
    const resourceOf = (study: unknown) => [
      ...(celVariables(policy, study).variables['trialResource'] as Iterable<unknown>),
    ];

    it('asks whether the author may create the kind’s group and resource, naming user, verb, kind and namespace', () => {
      const cases: [WorkloadType | undefined, string, string][] = [
        [undefined, 'jobs.batch (batch/v1 Job)', 'Job'],
        [JOB, 'jobs.batch (batch/v1 Job)', 'Job'],
        [JOBSET, 'jobsets.jobset.x-k8s.io (jobset.x-k8s.io/v1alpha2 JobSet)', 'JobSet'],
        [kinds[2], 'gadgetries.example.com (example.com/v1 Gadget)', 'Gadget'],
      ];
      for (const [type, what, kind] of cases) {
        const study = studyOf(type && { apiVersion: type.apiVersion, kind: type.kind });
        const k = kinds.find((c) => c.kind === kind)!;
        assert.deepEqual(resourceOf(study), [apiGroup(k.apiVersion), k.resource], kind);
        assert.equal(evaluate(policy.validations[0]!, study).allowed, true, `${kind} is configured`);
        // Only the authorizer decides for a configured kind: the guard before it does not pass it.
        assert.equal(evaluate(policy.validations[1]!, study).allowed, false, kind);
        assert.equal(
          evaluate(policy.validations[1]!, study).message,
          `user alice may not create ${what} in namespace team-a: the operator creates the trials of this Study as ${kind} objects with its own rights, so writing it needs the right to create them there`,
        );
      }
    });

    it('refuses a kind that is not configured, in the operator’s words', () => {
      const study = studyOf(TRAINJOB);
      assert.deepEqual(resourceOf(study), []);
      const { allowed, message } = evaluate(policy.validations[0]!, study);
      assert.equal(allowed, false);
      assert.equal(message, unconfiguredKindMessage(TRAINJOB, kinds));
      assert.equal(evaluate(policy.validations[1]!, study).allowed, true, 'no authorizer call for it');
    });
  });

  it('binds to every namespace by default, to watchNamespaces, or to a given selector', () => {
    const binding = bindingOf(objs);
    assert.equal(binding.policyName, 'kt-kubetune-studies');
    assert.deepEqual(binding.validationActions, ['Deny']);
    assert.deepEqual(binding.matchResources.namespaceSelector, {});
    assert.deepEqual(bindingOf(renderChart(['watchNamespaces={a,b}'])).matchResources.namespaceSelector, {
      matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['a', 'b'] }],
    });
    const res = helm([
      'template',
      'kt',
      chartDir,
      '-s',
      'templates/admission-policy.yaml',
      '--set',
      'watchNamespaces={a}',
      '--set-json',
      'admissionPolicy.namespaceSelector={"matchLabels":{"team":"ml"}}',
      '--set-json',
      'admissionPolicy.validationActions=["Warn","Audit"]',
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /namespaceSelector:\n\s+matchLabels:\n\s+team: ml/);
    assert.match(res.stdout, /validationActions: \["Warn","Audit"\]/);
  });

  it('is left out with admissionPolicy.enabled=false', () => {
    const kinds = renderChart(['admissionPolicy.enabled=false']).map((o) => o.kind);
    assert.ok(!kinds.some((k) => k.startsWith('ValidatingAdmissionPolicy')), kinds.join(', '));
  });

  it('passes the same policy to the operator as flags', () => {
    const dep = findObject(renderChart(settingsCases[3]!.sets), 'Deployment') as unknown as {
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    };
    const args = dep.spec.template.spec.containers[0]!.args;
    assert.ok(args.includes('--trial-pod-policy=baseline'), args.join(' '));
    assert.ok(args.includes('--trial-service-accounts=builder'), args.join(' '));
  });

  it('rejects a policy profile or ServiceAccount name the schema does not know', () => {
    for (const [set, message] of [
      [
        'trialPodPolicy.profile=loose',
        /\/trialPodPolicy\/profile': value must be one of 'baseline', 'privileged'/,
      ],
      [
        'trialPodPolicy.allowedServiceAccounts={Bad_Name}',
        /\/trialPodPolicy\/allowedServiceAccounts\/0': 'Bad_Name' does not match pattern/,
      ],
      [
        'admissionPolicy.validationActions={Allow}',
        /\/admissionPolicy\/validationActions\/0': value must be one of 'Deny', 'Warn', 'Audit'/,
      ],
    ] as const) {
      const res = helm(['template', 'kt', chartDir, '--set', set]);
      assert.notEqual(res.code, 0, `--set ${set} should fail`);
      assert.match(res.stderr, message);
    }
  });

  describe('refuses exactly what the operator refuses', () => {
    const corpus = podTemplateCorpus();

    it('on a corpus where each bad template breaks the rules it is meant to, with messages naming the offender', () => {
      const policy = policyOf(objs);
      for (const c of corpus) {
        const study = studyWithPod(c.pod);
        const rules = podPolicyViolations(study.spec.trialTemplate as never).map((v) => v.rule);
        assert.deepEqual([...new Set(rules)].sort(), [...c.refusedBy].sort(), c.name);
        const said = [...celRefusals(policy, study).values()].join('\n');
        for (const m of c.mentions ?? [])
          assert.ok(said.includes(m), `${c.name}: the message names ${m}: ${said}`);
      }
    });

    for (const { sets, settings } of settingsCases) {
      it(`with ${sets.join(' ') || 'default values'}`, () => {
        const policy = policyOf(renderChart(sets));
        for (const c of corpus) {
          const study = studyWithPod(c.pod);
          const ts = podPolicyViolations(study.spec.trialTemplate as never, settings);
          const cel = celRefusals(policy, study);
          assert.deepEqual([...cel.keys()].sort(), [...new Set(ts.map((v) => v.rule))].sort(), c.name);
        }
      });
    }
  });
});
