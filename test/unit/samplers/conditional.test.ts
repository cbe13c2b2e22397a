import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Assignment } from '../../../src/api/parameter.js';
import { ALGORITHMS, type AlgorithmName } from '../../../src/api/study.js';
import { createStudy } from '../../../src/engine/ask-tell.js';
import { SearchSpace } from '../../../src/engine/search-space.js';
import { SAMPLER_SUPPORT } from '../../../src/samplers/index.js';
import { runStudy } from './common.js';

/** momentum exists only for sgd, nesterov only for sgd with momentum steps 2 or 3 of 0..3. */
const optimizerSpace = [
  { name: 'optimizer', type: 'categorical' as const, values: ['sgd', 'adam'] },
  { name: 'lr', type: 'double' as const, min: 1e-4, max: 0.1, log: true },
  {
    name: 'momentum',
    type: 'double' as const,
    min: 0,
    max: 0.99,
    when: { parameter: 'optimizer', in: ['sgd'] },
  },
  {
    name: 'beta2',
    type: 'double' as const,
    min: 0.9,
    max: 0.9999,
    when: { parameter: 'optimizer', in: ['adam'] },
  },
];

/** Only sgd with momentum near 0.9 and lr near 1e-2 reaches 0; the best adam is 0.5. */
function optimizerLoss(p: Assignment): number {
  const lr = Math.log10(p['lr'] as number);
  if (p['optimizer'] === 'adam')
    return 0.5 + 0.1 * (lr + 3) ** 2 + 10 * ((p['beta2'] as number) - 0.999) ** 2;
  return 0.1 * (lr + 2) ** 2 + 4 * ((p['momentum'] as number) - 0.9) ** 2;
}

/** An int parent, so CMA-ES (no categoricals) is covered too; `depth` nests a grandchild. */
const intParentSpace = [
  { name: 'layers', type: 'int' as const, min: 1, max: 3 },
  { name: 'width2', type: 'int' as const, min: 8, max: 64, when: { parameter: 'layers', in: ['2', '3'] } },
  {
    name: 'width3',
    type: 'double' as const,
    min: 0,
    max: 1,
    when: { parameter: 'width2', in: ['8', '9', '10', '11', '12'] },
  },
  { name: 'dropout', type: 'double' as const, min: 0, max: 0.5, step: 0.1 },
];

function intParentLoss(p: Assignment): number {
  return (
    (p['dropout'] as number) +
    ((p['width2'] as number | undefined) ?? 100) / 100 +
    ((p['width3'] as number | undefined) ?? 0)
  );
}

/** The parameters a trial must have, by the rules written independently of SearchSpace. */
function expectedKeys(p: Assignment, space: 'optimizer' | 'int'): string[] {
  if (space === 'optimizer')
    return ['optimizer', 'lr', p['optimizer'] === 'sgd' ? 'momentum' : 'beta2'].sort();
  const keys = ['layers', 'dropout'];
  if ((p['layers'] as number) >= 2) {
    keys.push('width2');
    if ((p['width2'] as number) <= 12) keys.push('width3');
  }
  return keys.sort();
}

describe('conditional parameters in every sampler', () => {
  for (const name of ALGORITHMS) {
    it(`${name}: no trial ever carries an inactive parameter, and both branches are explored`, async () => {
      const spaces =
        name === 'cmaes'
          ? ([['int', intParentSpace, intParentLoss]] as const)
          : ([
              ['optimizer', optimizerSpace, optimizerLoss],
              ['int', intParentSpace, intParentLoss],
            ] as const);
      for (const [kind, parameters, f] of spaces) {
        for (const seed of [1, 2, 3]) {
          const settings = name === 'grid' ? { pointsPerDimension: 3 } : {};
          // The optimizer grid at 3 points per axis has 2 × 3 × 3 = 18 points.
          const n = name === 'bayesian' ? 16 : name === 'grid' ? 18 : 24;
          const { asked } = await runStudy(name as AlgorithmName, seed, n, {
            parameters: [...parameters],
            f,
            settings,
          });
          const space = new SearchSpace(parameters);
          for (const p of asked) {
            assert.deepEqual(
              Object.keys(p).sort(),
              expectedKeys(p, kind),
              `${name} seed ${seed}: ${JSON.stringify(p)}`,
            );
            assert.ok(space.contains(p), `${name} seed ${seed}: ${JSON.stringify(p)} is not a valid point`);
          }
          const first = kind === 'optimizer' ? 'optimizer' : 'layers';
          assert.ok(
            new Set(asked.map((p) => p[first])).size > 1,
            `${name} seed ${seed} explored one branch only`,
          );
        }
      }
    });
  }

  for (const name of ALGORITHMS.filter((a) => SAMPLER_SUPPORT[a].multiObjective)) {
    it(`${name} with two objectives: no trial ever carries an inactive parameter`, async () => {
      for (const seed of [1, 2]) {
        const study = createStudy({
          parameters: optimizerSpace,
          objectives: [
            { metric: 'loss', goal: 'minimize' },
            { metric: 'lr', goal: 'maximize' },
          ],
          algorithm: { name, settings: name === 'grid' ? { pointsPerDimension: 3 } : {} },
          seed,
          maxTrials: 18,
        });
        const space = new SearchSpace(optimizerSpace);
        for (let i = 0; i < 18; i++) {
          const [t] = await study.ask();
          const p = t!.params;
          assert.deepEqual(
            Object.keys(p).sort(),
            expectedKeys(p, 'optimizer'),
            `${name} seed ${seed}: ${JSON.stringify(p)}`,
          );
          assert.ok(space.contains(p), `${name} seed ${seed}: ${JSON.stringify(p)} is not a valid point`);
          study.tell(t!.id, { values: [optimizerLoss(p), p['lr'] as number] });
        }
      }
    });
  }

  it('grid enumerates exactly the valid combinations, each once', async () => {
    const parameters = [
      { name: 'optimizer', type: 'categorical' as const, values: ['sgd', 'adam', 'rmsprop'] },
      {
        name: 'momentum',
        type: 'double' as const,
        min: 0,
        max: 0.9,
        step: 0.3,
        when: { parameter: 'optimizer', in: ['sgd', 'rmsprop'] },
      },
      {
        name: 'nesterov',
        type: 'categorical' as const,
        values: ['yes', 'no'],
        when: { parameter: 'optimizer', in: ['sgd'] },
      },
    ];
    // sgd: 4 momenta × 2 = 8; rmsprop: 4; adam: 1.
    const { study, asked } = await runStudy('grid', 0, 13, { parameters, f: () => 1 });
    assert.equal(new Set(asked.map((p) => JSON.stringify(p))).size, 13);
    assert.equal(asked.filter((p) => p['optimizer'] === 'adam').length, 1);
    assert.equal(asked.filter((p) => p['optimizer'] === 'rmsprop').length, 4);
    assert.equal(study.remaining, 0, 'the grid has no 14th point');
  });

  for (const name of ['tpe', 'bayesian'] as const) {
    it(`${name} solves a space whose optimum lives only in the sgd branch (momentum ≈ 0.9)`, async () => {
      for (const seed of [1, 2, 3]) {
        const { study } = await runStudy(name, seed, 60, { parameters: optimizerSpace, f: optimizerLoss });
        const best = study.best();
        assert.ok(best, 'a best trial');
        assert.equal(best.params['optimizer'], 'sgd', `seed ${seed}: ${JSON.stringify(best)}`);
        assert.ok(
          Math.abs((best.params['momentum'] as number) - 0.9) < 0.15,
          `seed ${seed}: ${JSON.stringify(best)}`,
        );
        assert.ok(
          best.value < 0.1,
          `seed ${seed}: best ${best.value} is no better than the adam branch's region`,
        );
      }
    });
  }
});
