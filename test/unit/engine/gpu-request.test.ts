import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ParameterSpec } from '../../../src/api/parameter.js';
import type { TrialTemplate } from '../../../src/api/trial-template.js';
import {
  gpuRequest,
  gpuResources,
  maxGpuRequest,
  studyGpuResources,
  trialGpuCounter,
  trialGpuRequest,
  type GpuStudySpec,
} from '../../../src/engine/gpu-request.js';

function template(pod: Record<string, unknown>): TrialTemplate {
  return { spec: { template: { spec: pod } } } as unknown as TrialTemplate;
}

const gpus = (limits: Record<string, unknown>, requests?: Record<string, unknown>) => ({
  name: 'c',
  resources: { limits, ...(requests ? { requests } : {}) },
});

describe('gpuRequest (a trial pod GPU count)', () => {
  it('is 0 for a pod without GPU resources', () => {
    assert.equal(gpuRequest(template({ containers: [gpus({ cpu: '2', memory: '1Gi' })] })), 0);
  });

  it('sums every */gpu and MIG resource over the app containers', () => {
    const t = template({
      containers: [
        gpus({ 'nvidia.com/gpu': '2', cpu: '4' }),
        gpus({ 'amd.com/gpu': 1, 'nvidia.com/mig-1g.5gb': '3' }),
        gpus({ 'example.com/gpus': '7' }),
      ],
    });
    assert.equal(gpuRequest(t), 6);
  });

  it('takes the limit when both are set and falls back to the request', () => {
    assert.equal(
      gpuRequest(template({ containers: [gpus({ 'nvidia.com/gpu': '2' }, { 'nvidia.com/gpu': '1' })] })),
      2,
    );
    assert.equal(gpuRequest(template({ containers: [gpus({}, { 'nvidia.com/gpu': '3' })] })), 3);
  });

  it('counts the larger of the app sum and the init peak, as the scheduler does', () => {
    const pod = (init: number) => ({
      initContainers: [gpus({ 'nvidia.com/gpu': '1' }), gpus({ 'nvidia.com/gpu': String(init) })],
      containers: [gpus({ 'nvidia.com/gpu': '1' }), gpus({ 'nvidia.com/gpu': '1' })],
    });
    assert.equal(gpuRequest(template(pod(1))), 2);
    assert.equal(gpuRequest(template(pod(4))), 4);
  });

  it('adds sidecars (restartPolicy Always) to the apps and to the init containers after them', () => {
    const t = template({
      initContainers: [
        { ...gpus({ 'nvidia.com/gpu': '1' }), restartPolicy: 'Always' },
        gpus({ 'nvidia.com/gpu': '3' }),
      ],
      containers: [gpus({ 'nvidia.com/gpu': '1' })],
    });
    assert.equal(gpuRequest(t), 4);
    const appsWin = template({
      initContainers: [{ ...gpus({ 'nvidia.com/gpu': '2' }), restartPolicy: 'Always' }],
      containers: [gpus({ 'nvidia.com/gpu': '1' })],
    });
    assert.equal(gpuRequest(appsWin), 3);
  });

  it('reads SI suffixes and ignores quantities a GPU cannot have', () => {
    assert.equal(gpuRequest(template({ containers: [gpus({ 'nvidia.com/gpu': '1k' })] })), 1000);
    assert.equal(gpuRequest(template({ containers: [gpus({ 'nvidia.com/gpu': '500m' })] })), 0);
    assert.equal(gpuRequest(template({ containers: [gpus({ 'nvidia.com/gpu': 'lots' })] })), 0);
  });
});

describe('gpuResources (which GPU resources a trial pod asks for)', () => {
  it('names each GPU resource with a count, from init and app containers, once', () => {
    const t = template({
      initContainers: [gpus({ 'amd.com/gpu': '1' })],
      containers: [gpus({ 'nvidia.com/gpu': '1', cpu: '1' }), gpus({}, { 'nvidia.com/gpu': 2 })],
    });
    assert.deepEqual(gpuResources(t), ['amd.com/gpu', 'nvidia.com/gpu']);
  });

  it('leaves out zero and non-GPU quantities', () => {
    const t = template({ containers: [gpus({ 'nvidia.com/gpu': '0', 'example.com/gpus': '2' })] });
    assert.deepEqual(gpuResources(t), []);
  });
});

describe('GPUs of a trial of each kind, placeholders counted after rendering', () => {
  const gpuPod = (n: unknown) => ({ spec: { containers: [gpus({ 'nvidia.com/gpu': n })] } });
  const param = (name: string, min: number, max: number) => ({ name, type: 'int' as const, min, max });
  const trial = (index: number, params: Record<string, string>) => ({
    study: 's',
    name: `s-${index}`,
    index,
    params,
  });
  const studyOf = (trialTemplate: unknown, parameters: ParameterSpec[], maxTrials = 10) =>
    ({ trialTemplate, parameters, maxTrials }) as GpuStudySpec;

  it('counts every pod a Job runs at once: parallelism, no more than completions', () => {
    const job = (spec: Record<string, unknown>) =>
      ({ spec: { ...spec, template: gpuPod(2) } }) as unknown as TrialTemplate;
    assert.equal(gpuRequest(job({})), 2);
    assert.equal(gpuRequest(job({ parallelism: 3 })), 6);
    assert.equal(gpuRequest(job({ parallelism: 3, completions: 2 })), 4);
    assert.equal(gpuRequest(job({ completions: 5 })), 2, 'parallelism defaults to 1');
  });

  it("counts a TrainJob's GPUs per node times its nodes", () => {
    const trainJob = (trainer: Record<string, unknown>) =>
      ({
        apiVersion: 'trainer.kubeflow.org/v1alpha1',
        kind: 'TrainJob',
        spec: { runtimeRef: { name: 'torch-distributed' }, trainer },
      }) as unknown as TrialTemplate;
    const perNode = { resourcesPerNode: { limits: { 'nvidia.com/gpu': 2, cpu: '4' } } };
    assert.equal(gpuRequest(trainJob({ numNodes: 4, ...perNode })), 8);
    assert.equal(gpuRequest(trainJob(perNode)), 2, 'numNodes unset: one node');
    assert.equal(gpuRequest(trainJob({ numNodes: 4 })), 0, "no resourcesPerNode: the runtime's, unknown");
  });

  it('counts a JobSet whose replicas and parallelism are parameters with the trial’s values', () => {
    const template = {
      apiVersion: 'jobset.x-k8s.io/v1alpha2',
      kind: 'JobSet',
      spec: {
        replicatedJobs: [
          { name: 'leader', replicas: 1, template: { spec: { template: gpuPod(1) } } },
          {
            name: 'workers',
            replicas: '${params.nodes}',
            template: { spec: { parallelism: '${params.procs}', template: gpuPod(2) } },
          },
        ],
      },
    };
    const spec = studyOf(template, [param('nodes', 1, 4), param('procs', 1, 8)]);
    assert.equal(trialGpuRequest(spec, trial(0, { nodes: '3', procs: '2' })), 1 + 3 * 2 * 2);
    assert.equal(trialGpuRequest(spec, trial(1, { nodes: '1', procs: '1' })), 1 + 2);
    assert.equal(maxGpuRequest(spec), 1 + 4 * 8 * 2, 'every parameter at its largest');
    const count = trialGpuCounter('s', spec);
    assert.equal(count({ name: 's-2', index: 2, params: { nodes: '2', procs: '4' } }), 1 + 2 * 4 * 2);
  });

  it('counts a TrainJob whose numNodes is a parameter, and GPU quantities that are parameters', () => {
    const template = {
      apiVersion: 'trainer.kubeflow.org/v1alpha1',
      kind: 'TrainJob',
      spec: {
        trainer: {
          numNodes: '${params.nodes}',
          resourcesPerNode: { limits: { 'nvidia.com/gpu': '${params.g}' } },
        },
      },
    };
    const spec = studyOf(template, [
      param('nodes', 1, 4),
      { name: 'g', type: 'categorical', values: ['1', '4', '2'] } as ParameterSpec,
    ]);
    assert.equal(trialGpuRequest(spec, trial(0, { nodes: '3', g: '2' })), 6);
    assert.equal(maxGpuRequest(spec), 16, 'the largest categorical number, 4, on 4 nodes');
  });

  it('names the GPU resources of quantities that are parameters', () => {
    const job = { spec: { template: { spec: { containers: [gpus({ 'amd.com/gpu': '${params.g}' })] } } } };
    const spec = studyOf(job, [param('g', 1, 2)]);
    assert.deepEqual(studyGpuResources(spec), ['amd.com/gpu']);
    assert.equal(maxGpuRequest(spec), 2);
  });

  it('bounds a count given by the trial index with the last trial’s', () => {
    const job = { spec: { parallelism: '${trial.index}', template: gpuPod(1) } };
    assert.equal(maxGpuRequest(studyOf(job, [], 5)), 4);
    assert.equal(trialGpuRequest(studyOf(job, [], 5), trial(2, {})), 2);
  });

  it('counts nothing for a study whose trials ask for no GPU', () => {
    const job = {
      spec: { parallelism: '${params.w}', template: { spec: { containers: [gpus({ cpu: '1' })] } } },
    };
    const spec = studyOf(job, [param('w', 1, 4)]);
    assert.equal(maxGpuRequest(spec), 0);
    assert.equal(trialGpuCounter('s', spec)({ name: 's-0', index: 0, params: { w: '3' } }), 0);
  });
});
