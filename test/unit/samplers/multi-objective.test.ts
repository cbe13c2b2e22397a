import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dtlz2, pointOf, type Problem, problemSpace, zdt1 } from '../../../bench/multiobjective/problems.js';
import type { AlgorithmName } from '../../../src/api/study.js';
import { createStudy } from '../../../src/engine/ask-tell.js';
import { hypervolume } from '../../../src/engine/pareto.js';
import { SearchSpace } from '../../../src/engine/search-space.js';
import type { TrialView } from '../../../src/engine/trial-view.js';
import { collectHistory } from '../../../src/samplers/history.js';
import { neighbourBandwidths, readTpeOptions, splitBelow } from '../../../src/samplers/tpe.js';

async function run(
  problem: Problem,
  algorithm: AlgorithmName,
  seed: number,
  trials: number,
  settings: Record<string, unknown> = {},
) {
  const study = createStudy({
    ...problemSpace(problem),
    algorithm: { name: algorithm, settings },
    seed,
    maxTrials: trials,
  });
  const values: number[][] = [];
  const params: unknown[] = [];
  for (let t = 0; t < trials; t++) {
    const [trial] = await study.ask(1);
    const f = problem.evaluate(pointOf(problem, trial!.params));
    values.push(f);
    params.push(trial!.params);
    study.tell(trial!.id, { values: f });
  }
  return { hv: hypervolume(values, problem.reference), params };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
};

const ctxOf = (trials: TrialView[], objectives: number, constraints = false) => ({
  space: new SearchSpace([{ name: 'x', type: 'double', min: 0, max: 1 }]),
  goal: 'minimize' as const,
  seed: 0,
  trials,
  objectives: Array.from({ length: objectives }, (_, k) => ({ metric: `f${k}`, goal: 'minimize' as const })),
  constraints: constraints ? [{ metric: 'c', max: 0 }] : [],
});

const finished = (index: number, metrics: Record<string, number>): TrialView => ({
  index,
  params: { x: index / 100 },
  state: 'Succeeded',
  value: metrics['f0']!,
  metrics,
  intermediate: [],
});

describe('multi-objective and constrained sampling', () => {
  it('is deterministic for a seed (tpe, nsga2)', async () => {
    for (const name of ['tpe', 'nsga2'] as const) {
      const settings = name === 'nsga2' ? { populationSize: 8 } : {};
      const a = await run(zdt1(4), name, 3, 30, settings);
      const b = await run(zdt1(4), name, 3, 30, settings);
      assert.deepEqual(a.params, b.params, name);
      const c = await run(zdt1(4), name, 4, 30, settings);
      assert.notDeepEqual(a.params, c.params, `${name}: another seed gives other trials`);
    }
  });

  it('puts infeasible trials on the bad side of TPE, however good their value', () => {
    const opts = readTpeOptions({ gamma: 0.5 });
    const trials = [
      finished(0, { f0: 0.1, c: 1 }), // best value, infeasible
      finished(1, { f0: 0.5, c: 0 }),
      finished(2, { f0: 0.2 }), // constraint metric missing: infeasible
      finished(3, { f0: 0.4, c: -1 }),
    ];
    const { below } = splitBelow(collectHistory(ctxOf(trials, 1, true)), opts);
    assert.deepEqual(
      below.map((row) => trials[row]!.index),
      [3, 1],
    );
    // No feasible trial yet: the least violating ones lead towards feasibility.
    const none = [finished(0, { f0: 0.1, c: 3 }), finished(1, { f0: 0.9, c: 1 }), finished(2, { f0: 0.5 })];
    const split = splitBelow(collectHistory(ctxOf(none, 1, true)), readTpeOptions({ gamma: 0.3 }));
    assert.deepEqual(
      split.below.map((row) => none[row]!.index),
      [1],
    );
  });

  it('splits several objectives by non-dominated rank, then by hypervolume contribution', () => {
    const trials = [
      finished(0, { f0: 0, f1: 10 }),
      finished(1, { f0: 4, f1: 4 }), // dominated by 2
      finished(2, { f0: 3, f1: 3 }),
      finished(3, { f0: 10, f1: 0 }),
      finished(4, { f0: 2.9, f1: 3.1 }), // on the front, but adds little next to 2
      finished(5, { f0: 9, f1: 9 }),
    ];
    const { below, above } = splitBelow(collectHistory(ctxOf(trials, 2)), readTpeOptions({ gamma: 0.5 }));
    assert.deepEqual(below.map((row) => trials[row]!.index).sort(), [0, 2, 3]);
    assert.deepEqual(
      above.map((row) => trials[row]!.index),
      [1, 4, 5],
    );
  });

  it('finds a better ZDT1 front than random search (median hypervolume over 5 seeds)', async () => {
    const seeds = [1, 2, 3, 4, 5];
    const hv = async (name: AlgorithmName, settings = {}) =>
      median(await Promise.all(seeds.map(async (s) => (await run(zdt1(5), name, s, 60, settings)).hv)));
    const random = await hv('random');
    const tpe = await hv('tpe');
    const nsga2 = await hv('nsga2', { populationSize: 12 });
    assert.ok(tpe > random, `tpe ${tpe} vs random ${random}`);
    assert.ok(nsga2 > random, `nsga2 ${nsga2} vs random ${random}`);
  });

  it('models each parameter on its own with several objectives, which finds a better DTLZ2 front', async () => {
    const seeds = [1, 2, 3, 4, 5];
    const hv = async (settings: Record<string, unknown>) =>
      median(await Promise.all(seeds.map(async (s) => (await run(dtlz2(6), 'tpe', s, 100, settings)).hv)));
    const auto = await hv({});
    const multivariate = await hv({ estimator: 'multivariate', gamma: 0.1 });
    assert.ok(auto > 1.1 * multivariate, `univariate ${auto} vs multivariate ${multivariate}`);
  });

  it('widens each kernel to the larger gap to its neighbours, the prior centre counting as one', () => {
    // Sorted with the prior at 0.5: 0.05 0.1 0.3 0.32 [0.5] 0.6 0.62 0.64 0.95; floor 1/(8 + 2).
    const sigma = neighbourBandwidths([0.3, 0.05, 0.95, 0.62, 0.1, 0.6, 0.32, 0.64]);
    const expected = [0.2, 0.1, 0.31, 0.1, 0.2, 0.1, 0.18, 0.31];
    sigma.forEach((s, i) => assert.ok(Math.abs(s - expected[i]!) < 1e-12, `${i}: ${s} vs ${expected[i]}`));
  });

  it('validates the estimator and gamma settings', () => {
    assert.throws(() => readTpeOptions({ estimator: 'joint' }), {
      message: 'algorithm.settings.estimator: invalid value "joint"; allowed: auto, multivariate, univariate',
    });
    assert.throws(() => readTpeOptions({ gamma: 0.001 }), {
      message: 'algorithm.settings.gamma: must be 0 (automatic) or >= 0.01, got 0.001',
    });
  });
});
