// Trials that are not a single Job: a JobSet built from the template, judged by its conditions
// and its leader pod; a custom kind judged by CEL; the pod policy over every pod template.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { compileCondition, conditionProblem } from '../../../src/api/cel-condition.js';
import type { ParsedStudy, TrialObject } from '../../../src/operator/kube/resources.js';
import { podPolicyViolations } from '../../../src/operator/policy/check.js';
import { gpuRequest } from '../../../src/engine/gpu-request.js';
import { buildTrialWorkload } from '../../../src/operator/trials/job-builder.js';
import {
  metricsPods,
  observeWorkload,
  trialPods,
} from '../../../src/operator/trials/workload-observation.js';
import { formatZodError } from '../../../src/api/errors.js';
import { StudySpec } from '../../../src/api/study.js';
import { spec, specInput } from '../../support/specs.js';

const podTemplate = (name: string, extra: Record<string, unknown> = {}) => ({
  spec: { containers: [{ name, image: 'trainer', args: ['--lr=${params.learning_rate}'] }], ...extra },
});

const jobSetTemplate = {
  apiVersion: 'jobset.x-k8s.io/v1alpha2',
  kind: 'JobSet',
  spec: {
    replicatedJobs: [
      {
        name: 'leader',
        replicas: 1,
        template: { spec: { completions: 1, template: podTemplate('trainer') } },
      },
      {
        name: 'workers',
        replicas: '${params.batch_size}',
        template: { spec: { parallelism: 2, template: podTemplate('trainer') } },
      },
    ],
  },
};

function errorsOf(trialTemplate: unknown): string[] {
  const r = StudySpec.safeParse(specInput({ trialTemplate } as never), { reportInput: true });
  assert.equal(r.success, false, 'expected the spec to be rejected');
  return formatZodError(r.error!).map((e) => `${e.path}: ${e.message}`);
}

const study = (trialTemplate: unknown, metrics?: Record<string, unknown>): ParsedStudy => ({
  apiVersion: 'kubetune.io/v1alpha1',
  kind: 'Study',
  metadata: { name: 'demo', namespace: 'team-a', uid: 'study-uid' },
  spec: spec({ trialTemplate, ...(metrics ? { metrics } : {}) } as never),
});

const trial: TrialObject = {
  apiVersion: 'kubetune.io/v1alpha1',
  kind: 'Trial',
  metadata: { name: 'demo-3', namespace: 'team-a', uid: 'trial-uid' },
  spec: {
    study: 'demo',
    index: 3,
    parameters: { learning_rate: '0.01', batch_size: '64', dropout: '0.1', optimizer: 'adam' },
  },
};

function pod(name: string, labels: Record<string, string>, phase: string, createdSec = 0): V1Pod {
  return {
    metadata: { name, labels, creationTimestamp: new Date(1_000_000 + createdSec * 1000) },
    status: { phase, startTime: new Date(1_000_000) },
  } as V1Pod;
}

const leaderLabels = {
  'kubetune.io/trial': 'demo-3',
  'jobset.sigs.k8s.io/jobset-name': 'demo-3',
  'jobset.sigs.k8s.io/replicatedjob-name': 'leader',
  'jobset.sigs.k8s.io/job-index': '0',
  'batch.kubernetes.io/job-completion-index': '0',
};
const workerLabels = { ...leaderLabels, 'jobset.sigs.k8s.io/replicatedjob-name': 'workers' };

interface BuiltPod {
  metadata: { labels: Record<string, string> };
  spec: { containers: { args: string[]; env: { name: string }[] }[] };
}

describe('JobSet trials', () => {
  const ps = study(jobSetTemplate);
  const built = buildTrialWorkload(ps, trial) as {
    apiVersion: string;
    kind: string;
    metadata: { name: string; labels: Record<string, string>; ownerReferences: { uid: string }[] };
    spec: { replicatedJobs: { replicas: unknown; template: { spec: { template: BuiltPod } } }[] };
  };

  it('is created as the named kind, owned by the trial, with an integer replicas from its parameter', () => {
    assert.equal(built.apiVersion, 'jobset.x-k8s.io/v1alpha2');
    assert.equal(built.kind, 'JobSet');
    assert.equal(built.metadata.name, 'demo-3');
    assert.equal(built.metadata.ownerReferences[0]!.uid, 'trial-uid');
    assert.equal(built.metadata.labels['kubetune.io/study'], 'demo');
    assert.equal(built.spec.replicatedJobs[1]!.replicas, 64);
  });

  it('labels the pods of every replicated job and gives their trainer the trial env', () => {
    for (const r of built.spec.replicatedJobs) {
      const t = r.template.spec.template;
      assert.equal(t.metadata.labels['kubetune.io/trial'], 'demo-3');
      assert.deepEqual(t.spec.containers[0]!.args, ['--lr=0.01']);
      assert.ok(t.spec.containers[0]!.env.some((e) => e.name === 'KUBETUNE_TRIAL'));
    }
  });

  it('takes metrics from the leader (first replicated job, job 0, completion 0), or from podSelector', () => {
    const pods = [pod('w', workerLabels, 'Running', 2), pod('l', leaderLabels, 'Running', 1)];
    assert.deepEqual(
      metricsPods(ps.spec.trialTemplate, 'demo-3', pods).map((p) => p.metadata?.name),
      ['l'],
    );
    const chosen = metricsPods(ps.spec.trialTemplate, 'demo-3', pods, {
      'jobset.sigs.k8s.io/replicatedjob-name': 'workers',
    });
    assert.deepEqual(
      chosen.map((p) => p.metadata?.name),
      ['w'],
    );
  });

  it('runs once its leader runs, succeeds on Completed and fails on Failed with the reason', () => {
    const t = ps.spec.trialTemplate;
    const leader = pod('l', leaderLabels, 'Running');
    const pods = trialPods(t, 'demo-3', [leader, pod('other', { 'kubetune.io/trial': 'demo-4' }, 'Running')]);
    assert.equal(pods.length, 1);
    const obs = (status: unknown) =>
      observeWorkload(t, { metadata: { creationTimestamp: new Date(0) }, status }, pods, pods, 'trainer');
    assert.equal(obs({}).phase, 'Running');
    assert.equal(obs({ conditions: [{ type: 'Completed', status: 'True' }] }).phase, 'Succeeded');
    assert.deepEqual(
      obs({
        conditions: [
          { type: 'Failed', status: 'True', reason: 'FailedJobs', message: 'job workers-0 failed' },
        ],
      }),
      {
        phase: 'Failed',
        pod: leader,
        reason: 'FailedJobs',
        message: 'job workers-0 failed',
      },
    );
    assert.equal(
      observeWorkload(t, { metadata: { creationTimestamp: new Date(0) }, status: {} }, [], [], 'trainer')
        .phase,
      'Pending',
    );
  });
});

describe('TrainJob trials', () => {
  const ps = study({
    apiVersion: 'trainer.kubeflow.org/v1alpha1',
    kind: 'TrainJob',
    spec: {
      runtimeRef: { name: 'torch-distributed' },
      trainer: {
        image: 'trainer',
        numNodes: '${params.batch_size}',
        args: ['--lr', '${params.learning_rate}'],
      },
    },
  });

  it('carries the study labels in spec.labels (its pods come from the runtime) and a numeric numNodes', () => {
    const built = buildTrialWorkload(ps, trial) as {
      spec: { labels: Record<string, string>; trainer: { numNodes: unknown; args: string[] } };
    };
    assert.equal(built.spec.labels['kubetune.io/trial'], 'demo-3');
    assert.equal(built.spec.trainer.numNodes, 64);
    assert.deepEqual(built.spec.trainer.args, ['--lr', '0.01']);
  });

  it("finds its pods by the JobSet name and reads metrics from the node job's first pod", () => {
    const node = {
      'jobset.sigs.k8s.io/jobset-name': 'demo-3',
      'jobset.sigs.k8s.io/replicatedjob-name': 'node',
      'jobset.sigs.k8s.io/job-index': '0',
      'batch.kubernetes.io/job-completion-index': '0',
    };
    const init = { ...node, 'jobset.sigs.k8s.io/replicatedjob-name': 'dataset-initializer' };
    const pods = trialPods(ps.spec.trialTemplate, 'demo-3', [
      pod('n', node, 'Running'),
      pod('i', init, 'Succeeded'),
    ]);
    assert.equal(pods.length, 2);
    assert.deepEqual(
      metricsPods(ps.spec.trialTemplate, 'demo-3', pods).map((p) => p.metadata?.name),
      ['n'],
    );
  });
});

describe('custom kinds with CEL conditions', () => {
  const widget = {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    successCondition: "has(self.status) && self.status.phase == 'Done'",
    failureCondition: "has(self.status) && self.status.phase == 'Broken'",
    spec: { size: '${params.batch_size}', template: podTemplate('main') },
  };

  it('ends the trial when successCondition or failureCondition holds, and not before', () => {
    const t = study(widget).spec.trialTemplate;
    const obs = (status?: unknown) =>
      observeWorkload(
        t,
        { metadata: { creationTimestamp: new Date(0) }, ...(status ? { status } : {}) },
        [],
        [],
        'main',
      );
    assert.equal(obs().phase, 'Pending');
    assert.equal(obs({ phase: 'Working' }).phase, 'Pending');
    assert.equal(obs({ phase: 'Done' }).phase, 'Succeeded');
    const failed = obs({ phase: 'Broken' });
    assert.equal(failed.phase, 'Failed');
    assert.match((failed as { message: string }).message, /failureCondition holds: has\(self.status\)/);
  });

  it('requires both conditions for a kind that is not built in, naming the field', () => {
    assert.deepEqual(errorsOf({ ...widget, successCondition: undefined }), [
      'trialTemplate.successCondition: example.com/v1 Widget is not a built-in kind (batch/v1 Job, jobset.x-k8s.io/v1alpha2 JobSet, trainer.kubeflow.org/v1alpha1 TrainJob): it needs successCondition, a CEL expression over the object (self)',
    ]);
  });

  it('rejects malformed or unbounded CEL with the field and the CEL error', () => {
    assert.deepEqual(errorsOf({ ...widget, failureCondition: 'self.status.phase ==' }), [
      'trialTemplate.failureCondition: invalid CEL: <input>:1:19: found = but expecting end of input',
    ]);
    assert.match(conditionProblem("'a' + 1 == self.x") ?? '', /no matching overload/);
    assert.match(
      conditionProblem('size(self.spec.items)') ?? '',
      /must evaluate to a bool, but evaluates to int/,
    );
    assert.match(conditionProblem('nope(self)') ?? '', /undeclared reference to 'nope'/);
    assert.match(conditionProblem('other.x == 1') ?? '', /undeclared reference to 'other'/);
    assert.match(conditionProblem('self.a.all(x, self.a.exists(y, y == x))') ?? '', /cannot be nested/);
    assert.match(conditionProblem('self.a.exists(x, x == self.b)') ?? '', /only its own variable/);
    assert.match(conditionProblem(`self.a == '${'x'.repeat(3000)}'`) ?? '', /at most 2048/);
    assert.equal(
      conditionProblem("self.status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')"),
      undefined,
    );
  });

  it('evaluates over the object as the apiserver hands it over (whole numbers are ints)', () => {
    const c = compileCondition('self.status.succeeded >= 2');
    assert.equal(c.evaluate({ status: { succeeded: 2 } }), true);
    assert.equal(c.evaluate({ status: { succeeded: 1 } }), false);
    assert.deepEqual(typeof c.evaluate({}), 'object', 'an error is reported, not thrown');
  });
});

describe('GPUs of a JobSet trial', () => {
  it('counts every pod of every replicated job', () => {
    const gpuPod = (gpus: number) => ({
      spec: { containers: [{ name: 't', image: 'x', resources: { limits: { 'nvidia.com/gpu': gpus } } }] },
    });
    const t = study({
      apiVersion: 'jobset.x-k8s.io/v1alpha2',
      kind: 'JobSet',
      spec: {
        replicatedJobs: [
          { name: 'leader', replicas: 1, template: { spec: { template: gpuPod(1) } } },
          { name: 'workers', replicas: 2, template: { spec: { parallelism: 3, template: gpuPod(2) } } },
        ],
      },
    }).spec.trialTemplate;
    assert.equal(gpuRequest(t), 1 + 2 * 3 * 2);
  });
});

describe('trial pod policy over every pod template of a workload', () => {
  it('checks each replicated job of a JobSet, by its path', () => {
    const t = study({
      ...jobSetTemplate,
      spec: {
        replicatedJobs: [
          jobSetTemplate.spec.replicatedJobs[0],
          {
            name: 'workers',
            template: { spec: { template: podTemplate('trainer', { hostNetwork: true }) } },
          },
        ],
      },
    }).spec.trialTemplate;
    assert.deepEqual(
      podPolicyViolations(t).map((v) => v.path),
      ['spec.trialTemplate.spec.replicatedJobs[1].template.spec.template.spec.hostNetwork'],
    );
  });

  it("checks a TrainJob's podSpecOverrides, finds pod templates of other kinds by shape, refuses what has none", () => {
    const trainJob = study({
      apiVersion: 'trainer.kubeflow.org/v1alpha1',
      kind: 'TrainJob',
      spec: {
        runtimeRef: { name: 'torch-distributed' },
        podSpecOverrides: [
          { targetJobs: [{ name: 'node' }], volumes: [{ name: 'h', hostPath: { path: '/' } }] },
        ],
      },
    }).spec.trialTemplate;
    assert.deepEqual(
      podPolicyViolations(trainJob).map((v) => v.path),
      ['spec.trialTemplate.spec.podSpecOverrides[0].volumes[0].hostPath'],
    );
    const nested = study({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      successCondition: 'true',
      failureCondition: 'false',
      spec: { stages: [{ runner: podTemplate('main', { hostPID: true }) }] },
    }).spec.trialTemplate;
    assert.deepEqual(
      podPolicyViolations(nested).map((v) => v.path),
      ['spec.trialTemplate.spec.stages[0].runner.spec.hostPID'],
    );
    const opaque = study({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      successCondition: 'true',
      failureCondition: 'false',
      primaryContainerName: 'main',
      spec: { image: 'x' },
    }).spec.trialTemplate;
    assert.deepEqual(
      podPolicyViolations(opaque).map((v) => v.rule),
      ['pod-template'],
    );
    assert.deepEqual(
      podPolicyViolations(opaque, { profile: 'privileged', allowedServiceAccounts: ['*'] }),
      [],
    );
  });
});
