import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GpuAllocator } from '../../../src/local/gpu-allocator.js';
import {
  detectGpus,
  parseGpuList,
  parseNvidiaSmiList,
  visibleDevicesEnv,
} from '../../../src/local/gpu-devices.js';

describe('GpuAllocator', () => {
  it('gives each device to one trial at a time by default, least loaded first', () => {
    const a = new GpuAllocator(['0', '1', '3'], 1);
    assert.deepEqual(a.take(1), ['0']);
    assert.deepEqual(a.take(1), ['1']);
    assert.deepEqual(a.take(1), ['3']);
    assert.equal(a.take(1), undefined);
    assert.equal(a.room(1), 0);
    a.release(['1']);
    assert.equal(a.room(1), 1);
    assert.deepEqual(a.take(1), ['1']);
  });

  it('shares a device among at most trialsPerGpu trials, spreading before sharing', () => {
    const a = new GpuAllocator(['0', '1'], 2);
    assert.equal(a.room(1), 4);
    const taken = [a.take(1), a.take(1), a.take(1), a.take(1)];
    assert.deepEqual(taken, [['0'], ['1'], ['0'], ['1']]);
    assert.equal(a.take(1), undefined);
    a.release(['0']);
    assert.deepEqual(a.take(1), ['0']);
  });

  it('gives a multi-GPU trial distinct devices, and only while enough have a free share', () => {
    const a = new GpuAllocator(['0', '1', '2'], 2);
    assert.equal(a.room(2), 3); // 6 shares, two distinct devices per trial
    assert.deepEqual(a.take(2), ['0', '1']);
    assert.deepEqual(a.take(2), ['0', '2']); // device 2 is idle, so it goes before 1
    assert.deepEqual(a.take(2), ['1', '2']);
    assert.equal(a.take(2), undefined);
    assert.equal(a.room(2), 0);
    a.release(['0', '2']);
    assert.equal(a.room(2), 1);
    assert.equal(a.take(3), undefined);
  });

  it('says when a request can never fit, and refuses bad settings and double releases', () => {
    const a = new GpuAllocator(['0', '1'], 4);
    assert.equal(a.fits(2), true);
    assert.equal(a.fits(3), false);
    assert.throws(() => a.release(['0']), /GPU 0 released more often than it was taken/);
    assert.throws(() => new GpuAllocator(['0'], 0), /trialsPerGpu must be a whole number >= 1, got 0/);
    assert.throws(() => new GpuAllocator(['0', '0'], 1), /must be distinct/);
  });
});

describe('GPU detection', () => {
  it('reads nvidia-smi -L, skipping MIG lines', () => {
    const out =
      'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-aaa)\n' +
      '  MIG 1g.10gb     Device  0: (UUID: MIG-bbb)\n' +
      'GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-ccc)\n';
    assert.deepEqual(parseNvidiaSmiList(out), ['0', '1']);
  });

  it('parses --gpus lists and names the bad entry', () => {
    assert.deepEqual(parseGpuList('0,1, 3', '--gpus'), ['0', '1', '3']);
    assert.deepEqual(parseGpuList('GPU-1a2b,GPU-3c4d', '--gpus'), ['GPU-1a2b', 'GPU-3c4d']);
    assert.deepEqual(parseGpuList('', 'CUDA_VISIBLE_DEVICES'), []);
    assert.throws(() => parseGpuList('0,,1', '--gpus'), /--gpus: "" is not a device/);
    assert.throws(() => parseGpuList('0,1,0', '--gpus'), /--gpus: device 0 is listed twice/);
  });

  it('prefers --gpus, then the visible-devices variable kubetune runs under', async () => {
    const env = { CUDA_VISIBLE_DEVICES: '2,3', ROCR_VISIBLE_DEVICES: '5' };
    assert.deepEqual(await detectGpus('nvidia', { flag: '1', env }), { ids: ['1'], source: '--gpus' });
    assert.deepEqual(await detectGpus('nvidia', { flag: 'none', env }), {
      ids: [],
      source: '--gpus none',
      none: true,
    });
    assert.deepEqual(await detectGpus('nvidia', { env }), {
      ids: ['2', '3'],
      source: 'CUDA_VISIBLE_DEVICES',
    });
    assert.deepEqual(await detectGpus('amd', { env }), { ids: ['5'], source: 'ROCR_VISIBLE_DEVICES' });
    assert.deepEqual(await detectGpus('nvidia', { env: { CUDA_VISIBLE_DEVICES: '' } }), {
      ids: [],
      source: 'CUDA_VISIBLE_DEVICES',
    });
  });

  it('shows NVIDIA trials their devices in nvidia-smi order, and ROCm trials through ROCR then HIP', () => {
    assert.deepEqual(visibleDevicesEnv('nvidia', ['1', '3']), {
      CUDA_VISIBLE_DEVICES: '1,3',
      CUDA_DEVICE_ORDER: 'PCI_BUS_ID',
    });
    assert.deepEqual(visibleDevicesEnv('amd', ['1', '3']), {
      ROCR_VISIBLE_DEVICES: '1,3',
      HIP_VISIBLE_DEVICES: '0,1',
    });
  });
});
