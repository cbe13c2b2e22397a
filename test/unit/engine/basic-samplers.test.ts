import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createStudy } from '../../../src/engine/ask-tell.js';
import { contractParameters } from '../../support/specs.js';

const parameters = contractParameters();
const objective = { metric: 'loss', goal: 'minimize' as const };

async function suggestions(name: 'random' | 'sobol' | 'grid', seed: number, n: number, settings = {}) {
  const study = createStudy({
    parameters,
    objective,
    algorithm: { name, settings },
    seed,
    maxTrials: 10_000,
  });
  return (await study.ask(n)).map((t) => t.params);
}

describe('random sampler', () => {
  it('is reproducible by seed and differs across seeds', async () => {
    assert.deepEqual(await suggestions('random', 3, 20), await suggestions('random', 3, 20));
    assert.notDeepEqual(await suggestions('random', 3, 20), await suggestions('random', 4, 20));
  });

  it('gives the same point for a trial index whether asked in one batch or one by one', async () => {
    const batch = await suggestions('random', 9, 6);
    const study = createStudy({
      parameters,
      objective,
      algorithm: { name: 'random' },
      seed: 9,
      maxTrials: 100,
    });
    const single = [];
    for (let i = 0; i < 6; i++) {
      const [t] = await study.ask(1);
      single.push(t!.params);
      study.tell(t!.id, i);
    }
    assert.deepEqual(single, batch);
  });
});

describe('sobol sampler', () => {
  it('covers the unit square better than random (discrepancy of 256 points)', async () => {
    const two = [
      { name: 'a', type: 'double' as const, min: 0, max: 1 },
      { name: 'b', type: 'double' as const, min: 0, max: 1 },
    ];
    const cellsHit = async (name: 'sobol' | 'random') => {
      const study = createStudy({
        parameters: two,
        objective,
        algorithm: { name },
        seed: 5,
        maxTrials: 1000,
      });
      const pts = (await study.ask(256)).map((t) => t.params);
      // 16x16 cells: a (0,m,2)-net puts exactly one point in each for 256 points.
      return new Set(
        pts.map((p) => `${Math.floor((p['a'] as number) * 16)},${Math.floor((p['b'] as number) * 16)}`),
      ).size;
    };
    assert.equal(await cellsHit('sobol'), 256);
    assert.ok((await cellsHit('random')) < 200);
  });

  it('is reproducible by seed and scrambled differently per seed', async () => {
    assert.deepEqual(await suggestions('sobol', 1, 16), await suggestions('sobol', 1, 16));
    assert.notDeepEqual(await suggestions('sobol', 1, 16), await suggestions('sobol', 2, 16));
  });
});

describe('grid sampler', () => {
  const gridParams = [
    { name: 'dropout', type: 'double' as const, min: 0, max: 0.6, step: 0.2 },
    { name: 'layers', type: 'int' as const, min: 1, max: 3 },
    { name: 'lr', type: 'double' as const, min: 1e-4, max: 1e-2, log: true },
    { name: 'opt', type: 'categorical' as const, values: ['sgd', 'adam'] },
  ];

  it('enumerates every combination exactly once, then the study is exhausted', async () => {
    const study = createStudy({
      parameters: gridParams,
      objective,
      algorithm: { name: 'grid', settings: { pointsPerDimension: 3 } },
      maxTrials: 1000,
    });
    assert.equal(study.remaining, 4 * 3 * 3 * 2);
    const asked = await study.ask(study.remaining);
    const keys = new Set(asked.map((t) => JSON.stringify(t.params)));
    assert.equal(keys.size, asked.length);
    assert.deepEqual([...new Set(asked.map((t) => t.params['lr']))].sort(), [0.0001, 0.001, 0.01]);
    assert.deepEqual([...new Set(asked.map((t) => t.params['dropout']))].sort(), [0, 0.2, 0.4, 0.6]);
    for (const t of asked) study.tell(t.id, 1);
    assert.equal(study.exhausted, true);
    const outcome = study.outcome();
    assert.equal(outcome.done && outcome.reason, 'SearchSpaceExhausted');
  });

  it('rejects a bad pointsPerDimension with the field path', () => {
    assert.throws(
      () =>
        createStudy({
          parameters: gridParams,
          objective,
          algorithm: { name: 'grid', settings: { pointsPerDimension: 1 } },
        }),
      /algorithm\.settings\.pointsPerDimension: must be >= 2, got 1/,
    );
    assert.throws(
      () =>
        createStudy({
          parameters: gridParams,
          objective,
          algorithm: { name: 'grid', settings: { pointsPerDim: 3 } },
        }),
      /algorithm\.settings\.pointsPerDim: unknown setting/,
    );
  });
});

describe('grid sampler and fine steps', () => {
  it('enumerates a stepped double with more than 100,000 values on its step', async () => {
    const study = createStudy({
      parameters: [{ name: 'x', type: 'double', min: 0, max: 100_000, step: 0.5 }],
      objective,
      algorithm: { name: 'grid' },
      maxTrials: 1000,
    });
    const xs = (await study.ask(50)).map((t) => t.params['x'] as number);
    assert.equal(new Set(xs).size, 50);
    for (const x of xs) assert.ok(Number.isInteger(x * 2) && x >= 0 && x <= 100_000, `x=${x}`);
  });

  it('refuses a step that makes the grid too large, naming the field and the smallest step', () => {
    assert.throws(
      () =>
        createStudy({
          parameters: [
            { name: 'lr', type: 'double', min: 0.1, max: 1 },
            { name: 'x', type: 'double', min: 0, max: 1000, step: 0.001 },
          ],
          objective,
          algorithm: { name: 'grid' },
        }),
      (e: Error) =>
        e.name === 'SettingsError' &&
        /^parameters\[1\]\.step: grid search tries every step, and step 0\.001 gives x 1000001 values in \[0, 1000\], more than the 1000000 points a grid may have; use a step of at least 0\.00101, or another algorithm$/.test(
          e.message,
        ),
    );
  });
});
