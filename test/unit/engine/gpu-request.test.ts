import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TrialTemplate } from '../../../src/api/trial-template.js';
import { gpuRequest, gpuResources } from '../../../src/engine/gpu-request.js';

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
