import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createStudy } from '../../../src/engine/ask-tell.js';
import { mixedParameters, runStudy } from './common.js';

describe('tpe sampler', () => {
  it('beats random search on the mixed toy problem (median of 3 seeds)', async () => {
    const med = async (name: 'tpe' | 'random') => {
      const bests = [];
      for (const seed of [1, 2, 3]) bests.push((await runStudy(name, seed, 40)).study.best()!.value);
      return bests.sort((a, b) => a - b)[1]!;
    };
    const tpe = await med('tpe');
    const random = await med('random');
    assert.ok(tpe < random, `tpe ${tpe} vs random ${random}`);
  });

  it('validates its settings', () => {
    assert.throws(
      () =>
        createStudy({
          parameters: mixedParameters,
          objective: { metric: 'loss', goal: 'minimize' },
          algorithm: { name: 'tpe', settings: { gamma: 0.9 } },
        }),
      /algorithm\.settings\.gamma: must be <= 0\.5/,
    );
  });

  it('uses the startup design for the first nStartup trials, then the model', async () => {
    const a = await runStudy('tpe', 11, 12, { settings: { nStartup: 10 } });
    const b = await runStudy('sobol', 11, 10);
    assert.deepEqual(a.asked.slice(0, 10), b.asked);
  });
});
