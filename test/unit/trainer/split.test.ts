import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { holdoutSplit, kFoldSplit, permutation, seededRandom } from '../../../trainer-image/src/split.js';

describe('trainer data splits', () => {
  it('seeded permutations are reproducible and differ across seeds', () => {
    assert.deepEqual(permutation(50, 7), permutation(50, 7));
    assert.notDeepEqual(permutation(50, 7), permutation(50, 8));
    assert.deepEqual(
      [...permutation(50, 7)].sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i),
    );
    const r = seededRandom(1);
    for (let i = 0; i < 1000; i++) {
      const x = r();
      assert.ok(x >= 0 && x < 1);
    }
  });

  it('holdout split is disjoint, sized by the fraction, and capped without leaking', () => {
    const s = holdoutSplit(1000, { seed: 3, valFraction: 0.2 });
    assert.equal(s.val.length, 200);
    assert.equal(s.train.length, 800);
    assert.equal(new Set([...s.train, ...s.val]).size, 1000);
    const capped = holdoutSplit(1000, { seed: 3, valFraction: 0.2, trainSize: 100, valSize: 50 });
    assert.equal(capped.train.length, 100);
    assert.equal(capped.val.length, 50);
    const fullVal = new Set(s.val);
    assert.ok(
      capped.train.every((i) => !fullVal.has(i)),
      'a smaller train set must not take validation samples',
    );
  });

  it('k-fold validation sets are disjoint and cover every sample exactly once', () => {
    for (const [n, k] of [
      [103, 5],
      [10, 10],
      [64, 4],
    ] as const) {
      const seen = new Map<number, number>();
      for (let fold = 0; fold < k; fold++) {
        const s = kFoldSplit(n, k, fold, 11);
        assert.equal(s.train.length + s.val.length, n);
        const val = new Set(s.val);
        assert.ok(
          s.train.every((i) => !val.has(i)),
          'train and val overlap',
        );
        assert.ok(Math.abs(s.val.length - n / k) < 1, `fold ${fold} of ${n}/${k} has ${s.val.length}`);
        for (const i of s.val) seen.set(i, (seen.get(i) ?? 0) + 1);
      }
      assert.equal(seen.size, n);
      assert.ok([...seen.values()].every((c) => c === 1));
    }
  });

  it('k-fold rejects a fold outside the range', () => {
    assert.throws(() => kFoldSplit(10, 3, 3, 1), /fold must be in \[0, 2\]/);
    assert.throws(() => kFoldSplit(10, 1, 0, 1), /folds must be/);
  });
});
