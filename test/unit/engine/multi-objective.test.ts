import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StudySpec, type StudySpecInput } from '../../../src/api/study.js';
import { createStudy } from '../../../src/engine/ask-tell.js';
import { dominates, hypervolume, nonDominatedRanks } from '../../../src/engine/pareto.js';
import { Rng } from '../../../src/engine/rng.js';
import { StudyEngine } from '../../../src/engine/study-engine.js';
import type { TrialView } from '../../../src/engine/trial-view.js';
import { spec, specInput } from '../../support/specs.js';

const TWO = [
  { metric: 'acc', goal: 'maximize' as const },
  { metric: 'latency', goal: 'minimize' as const },
];

function multiSpec(over: Partial<StudySpecInput> = {}) {
  const { objective: _one, ...rest } = specInput({ algorithm: { name: 'tpe' }, ...over });
  return StudySpec.parse({ ...rest, objectives: TWO, ...over });
}

function done(index: number, metrics: Record<string, number>, value?: number): TrialView {
  return {
    index,
    params: {},
    state: 'Succeeded',
    intermediate: [],
    metrics,
    ...(value !== undefined ? { value } : {}),
  };
}

/** Hypervolume by inclusion-exclusion over every subset: slow, obviously right, for small sets. */
function bruteHypervolume(points: number[][], ref: number[]): number {
  let total = 0;
  for (let mask = 1; mask < 1 << points.length; mask++) {
    const chosen = points.filter((_, i) => mask & (1 << i));
    const corner = ref.map((_, k) => Math.max(...chosen.map((p) => p[k]!)));
    const box = ref.reduce((v, r, k) => v * Math.max(0, r - corner[k]!), 1);
    total += (chosen.length % 2 === 1 ? 1 : -1) * box;
  }
  return total;
}

describe('Pareto arithmetic', () => {
  it('ranks points by non-dominated fronts', () => {
    const pts = [
      [1, 5],
      [2, 2],
      [5, 1],
      [3, 3],
      [6, 6],
      [2, 2],
    ];
    assert.deepEqual(nonDominatedRanks(pts), [0, 0, 0, 1, 2, 0]);
    assert.equal(dominates([1, 1], [1, 2]), true);
    assert.equal(dominates([1, 2], [1, 2]), false);
  });

  it('computes exact hypervolume in two and three objectives', () => {
    assert.equal(
      hypervolume(
        [
          [1, 3],
          [2, 2],
          [3, 1],
        ],
        [4, 4],
      ),
      6,
    );
    assert.equal(
      hypervolume(
        [
          [0, 0, 1],
          [1, 1, 0],
        ],
        [2, 2, 2],
      ),
      5,
    );
    const rng = new Rng(7, 'hv-test');
    for (let round = 0; round < 30; round++) {
      const d = 2 + (round % 3);
      const pts = Array.from({ length: 2 + rng.int(7) }, () => rng.unitVector(d));
      const ref = new Array<number>(d).fill(1.1);
      assert.ok(Math.abs(hypervolume(pts, ref) - bruteHypervolume(pts, ref)) < 1e-9, `round ${round}`);
    }
  });
});

describe('several objectives in the engine', () => {
  it('gives the feasible non-dominated trials as the result, and no single best', () => {
    const engine = new StudyEngine(multiSpec({ constraints: [{ metric: 'memory', max: 4 }] }));
    const trials: TrialView[] = [
      done(0, { acc: 0.9, latency: 10, memory: 2 }),
      done(1, { acc: 0.8, latency: 5, memory: 3 }),
      done(2, { acc: 0.7, latency: 12, memory: 1 }), // dominated by 0
      done(3, { acc: 0.99, latency: 1, memory: 8 }), // dominates all, but infeasible
      done(4, { acc: 0.95, latency: 20 }), // no memory reported: infeasible
      done(5, { acc: 0.6, latency: 2, memory: 4 }), // exactly on the bound: feasible
      { index: 6, params: {}, state: 'Failed', intermediate: [] },
    ];
    assert.deepEqual(
      engine.paretoFront(trials).map((p) => [p.trial.index, p.values]),
      [
        [0, [0.9, 10]],
        [1, [0.8, 5]],
        [5, [0.6, 2]],
      ],
    );
    assert.equal(engine.best(trials), undefined);
  });

  it('fails a finished study whose trials were all infeasible, naming the constraints', () => {
    const engine = new StudyEngine(multiSpec({ maxTrials: 2, constraints: [{ metric: 'memory', max: 4 }] }));
    const outcome = engine.outcome([
      done(0, { acc: 0.9, latency: 10, memory: 5 }),
      done(1, { acc: 0.8, latency: 5 }),
    ]);
    assert.deepEqual(outcome, {
      done: true,
      succeeded: false,
      reason: 'NoSuccessfulTrials',
      message: 'none of 2 trials produced acc, latency while meeting the constraints (memory <= 4)',
    });
  });

  it('never picks an infeasible trial as the single-objective best', () => {
    const engine = new StudyEngine(spec({ constraints: [{ metric: 'memory', min: 1 }] }));
    const best = engine.best([
      done(0, { memory: 0.5 }, 0.1), // best loss, but misses the bound
      done(1, {}, 0.05), // never reported memory
      done(2, { memory: 1 }, 0.3),
      done(3, { memory: 2 }, 0.2),
    ]);
    assert.equal(best?.trial.index, 3);
    assert.equal(best?.value, 0.2);
  });

  it('refuses samplers and pruners that cannot serve the study, at validation', () => {
    assert.throws(() => new StudyEngine(multiSpec({ algorithm: { name: 'cmaes' } })), {
      name: 'SettingsError',
      message:
        'algorithm.name: cmaes handles one objective only, and this study has 2 (spec.objectives): use one of random, grid, sobol, tpe, bayesian, nsga2',
    });
    assert.throws(
      () => new StudyEngine(spec({ algorithm: { name: 'cmaes' }, constraints: [{ metric: 'm', max: 1 }] })),
      {
        message:
          'algorithm.name: cmaes cannot take constraints into account (spec.constraints): use one of random, grid, sobol, tpe, bayesian, nsga2',
      },
    );
    assert.throws(() => new StudyEngine(multiSpec({ earlyStopping: { name: 'median' } })), {
      message:
        'earlyStopping: median judges a trial by one curve and cannot prune a study with several objectives (spec.objectives): remove earlyStopping',
    });
    for (const name of ['random', 'grid', 'sobol', 'tpe', 'bayesian', 'nsga2'] as const)
      assert.doesNotThrow(() => new StudyEngine(multiSpec({ algorithm: { name } })));
  });

  it('takes vectors through ask/tell and checks their length', async () => {
    const study = createStudy({
      parameters: [{ name: 'x', type: 'double', min: 0, max: 1 }],
      objectives: TWO,
      algorithm: { name: 'random' },
      maxTrials: 3,
    });
    const [a, b] = await study.ask(2);
    study.tell(a!.id, { values: [0.9, 3] });
    assert.throws(() => study.tell(b!.id, 0.5), {
      message: 'tell(1): got 1 values for 2 objectives (acc, latency)',
    });
    study.tell(b!.id, { values: [0.8, 2] });
    assert.deepEqual(
      study.paretoFront().map((p) => [p.id, p.values]),
      [
        [0, [0.9, 3]],
        [1, [0.8, 2]],
      ],
    );
  });
});
