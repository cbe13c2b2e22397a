import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { compareTimestamps, splitTimestamp } from '../../../src/operator/kube/pod-logs.js';
import type { ParsedStudy, TrialObject } from '../../../src/operator/kube/resources.js';
import { finalFromStatus } from '../../../src/operator/trials/final-metrics.js';
import { buildTrialWorkload } from '../../../src/operator/trials/job-builder.js';
import { observeJob } from '../../../src/operator/trials/job-observation.js';
import { mergeConditions } from '../../../src/operator/study/study-status.js';
import { spec } from '../../support/specs.js';

const study: ParsedStudy = {
  apiVersion: 'kubetune.io/v1alpha1',
  kind: 'Study',
  metadata: { name: 'demo', namespace: 'team-a', uid: 'study-uid' },
  spec: spec({
    trialTemplate: {
      metadata: { labels: { team: 'a' } },
      spec: {
        backoffLimit: 2,
        template: {
          spec: {
            containers: [
              {
                name: 'trainer',
                image: 'ghcr.io/kubetune/trainer:0.1.0',
                args: ['--lr=${params.learning_rate}', '--name=${trial.name}'],
                resources: { limits: { 'nvidia.com/gpu': 1 } },
              },
            ],
          },
        },
      },
    } as never,
  }),
};
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

describe('trial Job', () => {
  const job = buildTrialWorkload(study, trial) as V1Job;

  it('substitutes parameters, keeps GPU requests and user fields, and is owned by the trial', () => {
    const c = job.spec!.template.spec!.containers[0]!;
    assert.deepEqual(c.args, ['--lr=0.01', '--name=demo-3']);
    assert.deepEqual(c.resources?.limits, { 'nvidia.com/gpu': 1 });
    assert.equal(job.spec!.backoffLimit, 2, 'the template wins over the default backoffLimit');
    assert.equal(job.spec!.template.spec!.restartPolicy, 'Never');
    assert.deepEqual(job.metadata!.ownerReferences, [
      {
        apiVersion: 'kubetune.io/v1alpha1',
        kind: 'Trial',
        name: 'demo-3',
        uid: 'trial-uid',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });

  it('labels the Job and its pods so they can be listed per study and trial', () => {
    assert.equal(job.metadata!.labels!['kubetune.io/study'], 'demo');
    assert.equal(job.metadata!.labels!['team'], 'a');
    assert.equal(job.spec!.template.metadata!.labels!['kubetune.io/trial'], 'demo-3');
    const env = job.spec!.template.spec!.containers[0]!.env!;
    assert.deepEqual(
      env.find((e) => e.name === 'KUBETUNE_TRIAL'),
      { name: 'KUBETUNE_TRIAL', value: 'demo-3' },
    );
  });
});

function jobWith(conditions: { type: string; status: string; reason?: string; message?: string }[]): V1Job {
  return {
    metadata: { name: 'j', uid: 'u', creationTimestamp: new Date('2026-01-01T00:00:00Z') },
    status: { conditions },
  } as V1Job;
}
function pod(phase: string, extra: Record<string, unknown> = {}): V1Pod {
  return {
    metadata: { name: `p-${phase}`, creationTimestamp: new Date('2026-01-01T00:00:01Z') },
    status: { phase, ...extra },
  } as V1Pod;
}

describe('job observation', () => {
  it('reads success, running and pending', () => {
    assert.equal(
      observeJob(jobWith([{ type: 'Complete', status: 'True' }]), [pod('Succeeded')]).phase,
      'Succeeded',
    );
    assert.equal(observeJob(jobWith([]), [pod('Running', { startTime: new Date() })]).phase, 'Running');
    const pending = observeJob(jobWith([]), [
      pod('Pending', {
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/1 nodes: Insufficient nvidia.com/gpu',
          },
        ],
      }),
    ]);
    assert.equal(
      pending.phase === 'Pending' && pending.unschedulable,
      '0/1 nodes: Insufficient nvidia.com/gpu',
    );
  });

  it("ends a one-pod Job's trial with its pod's success, before the Job controller says so", () => {
    const done = pod('Succeeded', {
      containerStatuses: [{ name: 't', state: { terminated: { exitCode: 0, finishedAt: new Date() } } }],
    });
    const single = jobWith([]);
    single.spec = { completions: 1, parallelism: 1 } as V1Job['spec'];
    assert.equal(observeJob(single, [done]).phase, 'Succeeded');
    // More than one pod, or a deadline that could still fail it: the Job's own verdict decides.
    for (const spec of [
      { completions: 3, parallelism: 1 },
      { parallelism: 2 },
      { completions: 1, parallelism: 1, completionMode: 'Indexed' },
      { completions: 1, parallelism: 1, activeDeadlineSeconds: 600 },
    ]) {
      const j = jobWith([]);
      j.spec = spec as V1Job['spec'];
      const obs = observeJob(j, [done], 't');
      assert.equal(obs.phase === 'Running' && obs.finishedAt !== undefined, true, JSON.stringify(spec));
    }
  });

  it('takes the failure reason from the pod: exit code and OOMKilled', () => {
    const failedJob = jobWith([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }]);
    const exit = observeJob(failedJob, [
      pod('Failed', { containerStatuses: [{ name: 't', state: { terminated: { exitCode: 3 } } }] }),
    ]);
    assert.deepEqual(exit.phase === 'Failed' && [exit.reason, exit.message], [
      'ExitCode',
      'container t exited with code 3',
    ]);
    const oom = observeJob(failedJob, [
      pod('Failed', {
        containerStatuses: [{ name: 't', state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }],
      }),
    ]);
    assert.equal(oom.phase === 'Failed' && oom.reason, 'OOMKilled');
    const bare = observeJob(failedJob, []);
    assert.equal(bare.phase === 'Failed' && bare.reason, 'BackoffLimitExceeded');
  });

  it('fails a pod stuck pulling its image', () => {
    const obs = observeJob(jobWith([]), [
      pod('Pending', {
        containerStatuses: [
          { name: 't', state: { waiting: { reason: 'ImagePullBackOff', message: 'not found' } } },
        ],
      }),
    ]);
    assert.equal(obs.phase === 'Failed' && obs.reason, 'ImagePullBackOff');
  });
});

describe('log timestamps', () => {
  it('splits and compares RFC3339Nano exactly', () => {
    assert.deepEqual(splitTimestamp('2026-11-26T21:59:24.123456789Z epoch=1 loss=2'), {
      ts: '2026-11-26T21:59:24.123456789Z',
      text: 'epoch=1 loss=2',
    });
    assert.equal(splitTimestamp('no timestamp here'), undefined);
    assert.equal(compareTimestamps('2026-11-26T21:59:24.1234568Z', '2026-11-26T21:59:24.123456789Z'), 1);
    assert.equal(compareTimestamps('2026-11-26T21:59:24Z', '2026-11-26T21:59:24.000000000Z'), 0);
    assert.equal(compareTimestamps('2026-11-26T21:59:23.9Z', '2026-11-26T21:59:24Z'), -1);
  });
});

describe('status helpers', () => {
  it('keeps a condition timestamp unless its status flips', () => {
    const first = mergeConditions([], [{ type: 'Running', status: 'True', reason: 'A', message: '' }], 't1');
    const same = mergeConditions(
      first,
      [{ type: 'Running', status: 'True', reason: 'B', message: 'x' }],
      't2',
    );
    assert.equal(same[0]!.lastTransitionTime, 't1');
    const flipped = mergeConditions(
      same,
      [{ type: 'Running', status: 'False', reason: 'C', message: '' }],
      't3',
    );
    assert.equal(flipped[0]!.lastTransitionTime, 't3');
  });

  it('computes final values from persisted status by strategy', () => {
    const s = spec({ metrics: { strategy: 'min' } as never });
    assert.deepEqual(
      finalFromStatus(s, {
        state: 'Running',
        intermediate: [
          { step: 1, value: 0.5 },
          { step: 2, value: 0.3 },
          { step: 3, value: 0.4 },
        ],
        metrics: { loss: 0.4 },
      }),
      { ok: true, objective: 0.3, metrics: { loss: 0.3 } },
    );
    assert.equal(finalFromStatus(spec(), { state: 'Running' }).ok, false);
  });
});
