import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PARETO_LISTED, StudyStatus } from '../../../src/api/study.js';
import type { ParetoTrialView } from '../../../src/engine/study-engine.js';
import { paretoFrontStatus } from '../../../src/operator/study/study-status.js';

/** A front of n trials trading f0 against f1; trial indices deliberately out of f0 order. */
function front(n: number): ParetoTrialView[] {
  return Array.from({ length: n }, (_, k) => ({
    trial: { index: (k * 7) % n, params: {}, state: 'Succeeded' as const, intermediate: [] },
    values: [k, n - k],
  }));
}
const trialOf = (index: number) => ({ name: `s-${index}`, parameters: { x: String(index) } });

describe('status.paretoFront', () => {
  it('lists a small front whole, by index', () => {
    const status = paretoFrontStatus(front(5), trialOf);
    assert.equal(status.size, 5);
    assert.deepEqual(
      status.trials.map((t) => t.index),
      [0, 1, 2, 3, 4],
    );
    assert.deepEqual(status.trials[0], { name: 's-0', index: 0, parameters: { x: '0' }, values: [0, 5] });
  });

  it('bounds a large front, keeping both ends and spreading the rest along the first objective', () => {
    const big = front(101);
    const status = paretoFrontStatus(big, trialOf);
    assert.equal(status.size, 101);
    assert.equal(status.trials.length, PARETO_LISTED);
    const f0 = status.trials.map((t) => t.values[0]!).sort((a, b) => a - b);
    assert.equal(f0[0], 0);
    assert.equal(f0.at(-1), 100);
    for (let k = 1; k < f0.length; k++) assert.ok(f0[k]! - f0[k - 1]! <= 6, `gap at ${k}: ${f0}`);
    const indices = status.trials.map((t) => t.index);
    assert.deepEqual(
      indices,
      [...indices].sort((a, b) => a - b),
    );
    // What the operator writes must pass the status schema (its max on listed trials).
    assert.equal(StudyStatus.safeParse({ paretoFront: status }).success, true);
    assert.equal(
      StudyStatus.safeParse({
        paretoFront: { size: 101, trials: paretoFrontStatus(big, trialOf).trials.concat(status.trials[0]!) },
      }).success,
      false,
    );
  });
});
