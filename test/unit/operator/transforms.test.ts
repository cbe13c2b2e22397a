// The informer caches keep trimmed Pods and Jobs (kube/transforms.ts): every reader of cached
// objects must decide the same on a trimmed object as on the full one the apiserver sent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Job, V1JobCondition, V1JobSpec, V1Pod } from '@kubernetes/client-node';
import { trimJob, trimOwn, trimPod } from '../../../src/operator/kube/transforms.js';
import { studyIndexOf } from '../../../src/operator/study/study-cache.js';
import { observeJob } from '../../../src/operator/trials/job-observation.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const managedFields = [
  { manager: 'kube-controller-manager', operation: 'Update', fieldsV1: { 'f:status': {} } },
];

function job(
  name: string,
  extra: {
    conditions?: V1JobCondition[];
    suspend?: boolean;
    kueue?: boolean;
    spec?: Partial<V1JobSpec>;
  } = {},
): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      resourceVersion: '41',
      generation: 1,
      creationTimestamp: T0,
      labels: { 'kubetune.io/study': 'demo', ...(extra.kueue ? { 'kueue.x-k8s.io/queue-name': 'q' } : {}) },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      ownerReferences: [
        { apiVersion: 'kubetune.io/v1alpha1', kind: 'Trial', name, uid: 't', controller: true },
      ],
      managedFields,
    },
    spec: {
      backoffLimit: 2,
      ...(extra.suspend !== undefined ? { suspend: extra.suspend } : {}),
      ...extra.spec,
      template: {
        spec: {
          containers: [{ name: 'trainer', image: 'i', env: [{ name: 'A', value: 'x'.repeat(500) }] }],
          restartPolicy: 'Never',
        },
      },
    },
    status: { active: 1, startTime: at(2), ...(extra.conditions ? { conditions: extra.conditions } : {}) },
  };
}

function pod(name: string, owner: string, status: V1Pod['status'], created = 1): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      resourceVersion: '42',
      creationTimestamp: at(created),
      labels: { 'kubetune.io/study': 'demo', 'batch.kubernetes.io/job-name': owner },
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'Job', name: owner, uid: `uid-${owner}`, controller: true },
      ],
      managedFields,
    },
    spec: {
      nodeName: 'node-0',
      containers: [
        {
          name: 'trainer',
          image: 'i',
          args: ['--lr', '0.1'],
          resources: { limits: { 'nvidia.com/gpu': '1' } },
        },
      ],
      tolerations: [{ key: 'k', operator: 'Exists' }],
    },
    status,
  };
}

const running = (startedAt: Date) => ({ running: { startedAt } });
const terminated = (exitCode: number, reason: string, finishedAt: Date) => ({
  terminated: { exitCode, reason, message: 'bye', startedAt: at(3), finishedAt, containerID: 'c://1' },
});
const cs = (state: object, name = 'trainer') => ({
  name,
  image: 'i',
  imageID: 'sha',
  ready: false,
  restartCount: 0,
  state,
});

/** [what, job, pods] cases covering every branch of observeJob. */
const CASES: [string, V1Job, V1Pod[]][] = [
  ['no pod yet', job('a'), []],
  [
    'running',
    job('a'),
    [
      pod('a-1', 'a', {
        phase: 'Running',
        podIP: '10.0.0.7',
        startTime: at(2),
        containerStatuses: [cs(running(at(4))), cs(running(at(3)), 'sidecar')],
      }),
    ],
  ],
  [
    'pod succeeded, Job not yet',
    job('a'),
    [
      pod('a-1', 'a', {
        phase: 'Succeeded',
        startTime: at(2),
        containerStatuses: [cs(terminated(0, 'Completed', at(9)))],
      }),
    ],
  ],
  ...(
    [
      ['of 3 completions', { completions: 3, parallelism: 1 }],
      ['of 2 in parallel', { parallelism: 2 }],
      ['with a deadline', { activeDeadlineSeconds: 60 }],
      ['indexed', { completionMode: 'Indexed' }],
    ] as [string, Partial<V1JobSpec>][]
  ).map(([what, spec]): [string, V1Job, V1Pod[]] => [
    `pod succeeded, Job ${what} not yet`,
    job('a', { spec }),
    [
      pod('a-1', 'a', {
        phase: 'Succeeded',
        startTime: at(2),
        containerStatuses: [cs(terminated(0, 'Completed', at(9)))],
      }),
    ],
  ]),
  [
    'complete',
    job('a', { conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: at(10) }] }),
    [pod('a-1', 'a', { phase: 'Succeeded', containerStatuses: [cs(terminated(0, 'Completed', at(9)))] })],
  ],
  [
    'failed with exit code',
    job('a', {
      conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'too many' }],
    }),
    [pod('a-1', 'a', { phase: 'Failed', containerStatuses: [cs(terminated(3, 'Error', at(9)))] })],
  ],
  [
    'OOMKilled',
    job('a', { conditions: [{ type: 'FailureTarget', status: 'True' }] }),
    [pod('a-1', 'a', { phase: 'Failed', containerStatuses: [cs(terminated(137, 'OOMKilled', at(9)))] })],
  ],
  [
    'image pull',
    job('a'),
    [
      pod('a-1', 'a', {
        phase: 'Pending',
        containerStatuses: [cs({ waiting: { reason: 'ErrImagePull', message: 'no such image' } })],
      }),
    ],
  ],
  [
    'unschedulable',
    job('a'),
    [
      pod('a-1', 'a', {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/1 nodes',
            lastProbeTime: at(1),
          },
        ],
      }),
    ],
  ],
  [
    'retry back-off after a failed pod',
    job('a'),
    [pod('a-1', 'a', { phase: 'Failed', containerStatuses: [cs(terminated(1, 'Error', at(7)))] })],
  ],
  [
    'retry running in a new pod',
    job('a'),
    [
      pod('a-1', 'a', { phase: 'Failed', containerStatuses: [cs(terminated(1, 'Error', at(7)))] }),
      pod('a-2', 'a', { phase: 'Running', containerStatuses: [cs(running(at(12)))] }, 11),
    ],
  ],
  ['queued by Kueue', job('a', { suspend: true, kueue: true }), []],
  [
    'admitted by Kueue',
    job('a', {
      suspend: false,
      kueue: true,
      conditions: [{ type: 'Suspended', status: 'False', lastTransitionTime: at(20) }],
    }),
    [],
  ],
];

/** Everything the operator reads from a cached Job and its pods, as plain data. */
function reads(j: V1Job, pods: V1Pod[]) {
  const owned = pods.filter((p) => p.metadata?.ownerReferences?.some((r) => r.uid === j.metadata?.uid));
  const obs = observeJob(j, owned, 'trainer', at(30));
  return {
    observation: { ...obs, ...('pod' in obs ? { pod: obs.pod?.metadata?.name } : {}) },
    owned: owned.map((p) => p.metadata?.name),
    pods: pods.map((p) => ({
      key: `${p.metadata?.namespace}/${p.metadata?.name}@${p.metadata?.resourceVersion}`,
      index: studyIndexOf(p),
      podIP: p.status?.podIP,
      deleting: p.metadata?.deletionTimestamp,
    })),
    job: {
      key: `${j.metadata?.namespace}/${j.metadata?.name}@${j.metadata?.resourceVersion}`,
      uid: j.metadata?.uid,
      index: studyIndexOf(j),
      deleting: j.metadata?.deletionTimestamp,
    },
  };
}

describe('informer cache transforms', () => {
  for (const [what, j, pods] of CASES) {
    it(`reads a trimmed Job and its pods as the full ones: ${what}`, () => {
      assert.deepEqual(reads(trimJob(j), pods.map(trimPod)), reads(j, pods));
    });
  }

  it('keeps a deletion in progress', () => {
    const j = job('a');
    j.metadata!.deletionTimestamp = at(5);
    // With a start time: without one the observation would fall back to the clock, twice.
    const p = pod('a-1', 'a', { phase: 'Running', startTime: at(2) });
    p.metadata!.deletionTimestamp = at(5);
    assert.deepEqual(reads(trimJob(j), [trimPod(p)]), reads(j, [p]));
    assert.ok(reads(j, [p]).job.deleting);
  });

  it('drops what no reader uses', () => {
    const [, j, pods] = CASES[1]!;
    const p = trimPod(pods[0]!);
    assert.equal(p.spec, undefined);
    assert.equal(p.metadata?.managedFields, undefined);
    assert.equal(trimJob(j).spec?.template, undefined);
    assert.equal(trimJob(j).metadata?.annotations, undefined);
    assert.ok(JSON.stringify(p).length < JSON.stringify(pods[0]).length);
  });

  it('keeps Studies and Trials whole but for managedFields', () => {
    const trial = {
      metadata: { name: 't', namespace: 'ns', managedFields, labels: { a: 'b' } },
      spec: { x: 1 },
      status: { y: 2 },
    };
    assert.deepEqual(trimOwn(trial), {
      metadata: { name: 't', namespace: 'ns', labels: { a: 'b' } },
      spec: { x: 1 },
      status: { y: 2 },
    });
  });
});
