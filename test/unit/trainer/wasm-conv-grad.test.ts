// The wasm backend lacks Conv2DBackpropFilter; trainer-image registers one built on the 3-D
// kernel. Its gradients must match the reference cpu backend's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
// Registers the gradient functions (tfjs-core's node bundle leaves that to its users).
import '@tensorflow/tfjs-layers';
import { selectBackend } from '../../../trainer-image/src/backend.js';

function filterGrad(padding: 'same' | 'valid', stride: number): { grad: number[]; shape: number[] } {
  const x = tf.tensor4d(
    Array.from({ length: 2 * 7 * 6 * 3 }, (_, i) => Math.sin(i)),
    [2, 7, 6, 3],
  );
  const w = tf.tensor4d(
    Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i)),
    [3, 3, 3, 4],
  );
  const g = tf.grad((f) => tf.sum(tf.square(tf.conv2d(x, f as tf.Tensor4D, stride, padding))))(w);
  const out = { grad: Array.from(g.dataSync()), shape: g.shape };
  tf.dispose([x, w, g]);
  return out;
}

describe('wasm Conv2DBackpropFilter', () => {
  it('matches the cpu backend for same and valid padding', async () => {
    const cases = [
      ['same', 1],
      ['valid', 1],
    ] as const;
    await selectBackend('cpu', () => {});
    const expected = cases.map(([p, s]) => filterGrad(p, s));
    await selectBackend('wasm', () => {});
    assert.equal(tf.getBackend(), 'wasm');
    cases.forEach(([p, s], i) => {
      const got = filterGrad(p, s);
      const want = expected[i]!;
      assert.deepEqual(got.shape, want.shape);
      got.grad.forEach((v, j) => {
        const ref = want.grad[j]!;
        assert.ok(Math.abs(v - ref) <= 1e-3 * Math.max(1, Math.abs(ref)), `${p}/${s} [${j}]: ${v} vs ${ref}`);
      });
    });
  });
});
