import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Assignment } from '../../../src/api/parameter.js';
import { ParameterSpec } from '../../../src/api/parameter.js';
import type { TrialState } from '../../../src/api/trial.js';
import { createStudy } from '../../../src/engine/ask-tell.js';
import { SearchSpace } from '../../../src/engine/search-space.js';
import type { TrialView } from '../../../src/engine/trial-view.js';
import { symEig } from '../../../src/samplers/cmaes.js';
import { SAMPLERS } from '../../../src/samplers/index.js';
import { mixedParameters, runStudy } from './common.js';

const parameters = [
  { name: 'a', type: 'double' as const, min: -3, max: 3 },
  { name: 'b', type: 'double' as const, min: 1e-3, max: 10, log: true },
  { name: 'c', type: 'int' as const, min: 0, max: 20 },
  { name: 'd', type: 'double' as const, min: 0, max: 1, step: 0.1 },
];
const f = (p: Assignment) =>
  ((p['a'] as number) - 1) ** 2 +
  Math.log10(p['b'] as number) ** 2 +
  0.01 * ((p['c'] as number) - 7) ** 2 +
  ((p['d'] as number) - 0.3) ** 2;
const ok = (p: Assignment) =>
  (p['a'] as number) >= -3 &&
  (p['a'] as number) <= 3 &&
  (p['b'] as number) >= 1e-3 &&
  (p['b'] as number) <= 10 &&
  Number.isInteger(p['c']) &&
  Number.isInteger(Math.round((p['d'] as number) * 10)) &&
  Math.abs((p['d'] as number) * 10 - Math.round((p['d'] as number) * 10)) < 1e-9;

describe('cmaes sampler', () => {
  it('stays in bounds, respects ints and steps, and improves on the toy problem', async () => {
    const { asked, study } = await runStudy('cmaes', 1, 80, { parameters, f });
    for (const p of asked) assert.ok(ok(p), JSON.stringify(p));
    assert.ok(study.best()!.value < 0.1, `best ${study.best()!.value}`);
  });

  it('is a deterministic function of seed and history, different across seeds', async () => {
    const a = await runStudy('cmaes', 3, 30, { parameters, f });
    const b = await runStudy('cmaes', 3, 30, { parameters, f });
    const c = await runStudy('cmaes', 4, 30, { parameters, f });
    assert.deepEqual(a.asked, b.asked);
    assert.notDeepEqual(a.asked, c.asked);
    // Same points whether asked one by one or a generation at a time.
    const batched = await runStudy('cmaes', 3, 30, { parameters, f, batch: 6 });
    assert.deepEqual(batched.asked.slice(0, 6), a.asked.slice(0, 6));
  });

  it('survives failed trials, all-failed included, without duplicates in a batch', async () => {
    const all = await runStudy('cmaes', 2, 20, { parameters, f, fail: () => true });
    assert.equal(all.asked.length, 20);
    const some = await runStudy('cmaes', 2, 20, { parameters, f, fail: (i) => i % 4 === 0 });
    assert.ok(some.study.best());
    const study = createStudy({
      parameters: [{ name: 'n', type: 'int' as const, min: 0, max: 30 }],
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: { name: 'cmaes' },
      seed: 1,
      maxTrials: 100,
    });
    const batch = (await study.ask(10)).map((t) => t.params['n']);
    assert.equal(new Set(batch).size, batch.length);
  });

  it('refuses categorical parameters, naming them and suggesting tpe or bayesian', () => {
    assert.throws(
      () =>
        createStudy({
          parameters: mixedParameters,
          objective: { metric: 'loss', goal: 'minimize' },
          algorithm: { name: 'cmaes' },
        }),
      (e: Error) =>
        e.name === 'SettingsError' &&
        /^algorithm\.name: .*optimizer is categorical.*tpe or bayesian/.test(e.message),
    );
  });

  it('rejects unknown settings and bad popsize', () => {
    assert.throws(
      () =>
        createStudy({
          parameters,
          objective: { metric: 'loss', goal: 'minimize' },
          algorithm: { name: 'cmaes', settings: { popSize: 4 } },
        }),
      /algorithm\.settings\.popSize: unknown setting/,
    );
    assert.throws(
      () =>
        createStudy({
          parameters,
          objective: { metric: 'loss', goal: 'minimize' },
          algorithm: { name: 'cmaes', settings: { popsize: 1 } },
        }),
      /algorithm\.settings\.popsize: must be >= 2/,
    );
  });

  it('decomposes a symmetric matrix', () => {
    const c = [
      [4, 1, 0.5],
      [1, 3, 0.2],
      [0.5, 0.2, 2],
    ];
    const { values, vectors } = symEig(c);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += vectors[i]![k]! * values[k]! * vectors[j]![k]!;
        assert.ok(Math.abs(s - c[i]![j]!) < 1e-9);
      }
  });
});

describe('cmaes generations', () => {
  const plane = [
    { name: 'x', type: 'double' as const, min: -2, max: 2 },
    { name: 'y', type: 'double' as const, min: -2, max: 2 },
  ];
  const space = new SearchSpace(plane.map((p) => ParameterSpec.parse(p)));
  const trial = (index: number, x: number, y: number, state: TrialState, value?: number): TrialView => ({
    index,
    params: { x, y },
    state,
    intermediate: [],
    ...(value === undefined ? {} : { value }),
  });
  const centroid = (ps: Assignment[]) =>
    ['x', 'y'].map((k) => ps.reduce((a, p) => a + (p[k] as number), 0) / ps.length);

  it('updates once popsize results are told, even while an earlier trial still runs', async () => {
    // popsize 4: trials 0-2 and 4 are told, trial 3 still runs. The good results sit near
    // (1.5, 1.5), far from the initial mean (0, 0), so draws from the updated distribution move there.
    const trials = [
      trial(0, 1.5, 1.4, 'Succeeded', 0.1),
      trial(1, 1.4, 1.5, 'Succeeded', 0.2),
      trial(2, -1, -1, 'Succeeded', 5),
      trial(3, 0.2, -0.3, 'Running'),
      trial(4, -1, 1, 'Succeeded', 6),
    ];
    const sampler = SAMPLERS.cmaes({ popsize: 4 }, space);
    const indices = Array.from({ length: 24 }, (_, k) => 5 + k);
    const next = await sampler.suggest({ space, goal: 'minimize', seed: 2, trials }, indices);
    const [cx, cy] = centroid(next);
    // Drawn from the initial distribution they would centre on (0, 0) give or take 0.3.
    assert.ok(cx! > 0.5 && cy! > 0.5, `next points centre on (${cx}, ${cy}), not near (1.5, 1.5)`);
  });

  it('never gives a failed trial recombination weight, however many failed', async () => {
    const sampler = SAMPLERS.cmaes({ popsize: 4 }, space);
    const next = (failedAt: number[][]) => {
      const trials: TrialView[] = [
        { index: 0, params: { x: 0.5, y: 0.5 }, state: 'Succeeded', value: 1, intermediate: [] },
        ...failedAt.map(([x, y], k) => ({
          index: k + 1,
          params: { x: x!, y: y! },
          state: 'Failed' as const,
          intermediate: [],
        })),
      ];
      return sampler.suggest({ space, goal: 'minimize', seed: 3, trials }, [4, 5, 6]);
    };
    const a = await next([
      [-1.5, -1.5],
      [1.5, -1.5],
      [-1.5, 1.5],
    ]);
    const b = await next([
      [1.9, 1.9],
      [-0.1, 1.2],
      [0.3, -1.8],
    ]);
    assert.deepEqual(b, a);
  });
});
