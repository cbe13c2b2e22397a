import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pointOf, problemSpace, zdt1 } from '../../../bench/multiobjective/problems.js';
import type { AlgorithmName } from '../../../src/api/study.js';
import { createStudy } from '../../../src/engine/ask-tell.js';
import { hypervolume } from '../../../src/engine/pareto.js';

const problem = zdt1(4);
/** Fewer candidates and local steps than the defaults keep the tests quick; the search is the same. */
const QUICK = { nCandidates: 300, localSteps: 10 };

/**
 * A disc around (0.6, 0.6) in (x0, x1): about a third of the cube meets `disc <= 0.1`, and none
 * of the unconstrained ZDT1 front (x1 = 0) does, so chasing the objectives alone leaves it.
 */
const disc = (x: readonly number[]) => (x[0]! - 0.6) ** 2 + (x[1]! - 0.6) ** 2;

async function run(
  algorithm: AlgorithmName,
  seed: number,
  trials: number,
  opts: { constrained?: boolean; batch?: number } = {},
) {
  const study = createStudy({
    ...problemSpace(problem),
    ...(opts.constrained ? { constraints: [{ metric: 'disc', max: 0.1 }] } : {}),
    algorithm: { name: algorithm, settings: algorithm === 'bayesian' ? QUICK : {} },
    seed,
    maxTrials: trials,
  });
  const params: Record<string, unknown>[] = [];
  const feasible: number[][] = [];
  let feasibleAfterStart = 0;
  for (let t = 0; t < trials;) {
    for (const trial of await study.ask(Math.min(opts.batch ?? 1, trials - t))) {
      const x = pointOf(problem, trial.params);
      const f = problem.evaluate(x);
      params.push(trial.params);
      study.tell(trial.id, { values: f, metrics: { disc: disc(x) } });
      if (!opts.constrained || disc(x) <= 0.1) {
        feasible.push(f);
        // bayesian's initial design here is its first max(5, d + 2) = 6 trials.
        if (t >= 6) feasibleAfterStart++;
      }
      t++;
    }
  }
  return { hv: hypervolume(feasible, problem.reference), params, feasibleAfterStart };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
};

describe('bayesian with several objectives', () => {
  it('finds a better ZDT1 front than random search at 30 trials (median over 3 seeds)', async () => {
    const seeds = [1, 2, 3];
    const hv = async (name: AlgorithmName) =>
      median(await Promise.all(seeds.map(async (s) => (await run(name, s, 30)).hv)));
    const random = await hv('random');
    const bayesian = await hv('bayesian');
    assert.ok(bayesian > 1.05 * random, `bayesian ${bayesian} vs random ${random}`);
  });

  it('is deterministic for a seed, in batches too', async () => {
    const a = await run('bayesian', 5, 16, { batch: 3 });
    const b = await run('bayesian', 5, 16, { batch: 3 });
    assert.deepEqual(a.params, b.params);
    const c = await run('bayesian', 6, 16, { batch: 3 });
    assert.notDeepEqual(a.params, c.params, 'another seed gives other trials');
    assert.equal(new Set(a.params.map((p) => JSON.stringify(p))).size, 16, 'a batch never repeats a point');
  });

  it('steers towards the feasible region (probability of feasibility), unlike random search', async () => {
    const seeds = [1, 2, 3];
    const count = async (name: AlgorithmName) =>
      median(
        await Promise.all(
          seeds.map(async (s) => (await run(name, s, 26, { constrained: true })).feasibleAfterStart),
        ),
      );
    const random = await count('random');
    const bayesian = await count('bayesian');
    // Of the 20 trials after the initial design, random search lands about a third in the disc;
    // the same sampler without the probability of feasibility chases the front out of it.
    assert.ok(bayesian >= 1.5 * random, `bayesian ${bayesian} vs random ${random} feasible of 20`);
  });
});
