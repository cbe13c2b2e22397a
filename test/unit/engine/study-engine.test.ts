import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALGORITHMS, PRUNERS as PRUNER_NAMES } from '../../../src/api/study.js';
import type { TrialState } from '../../../src/api/trial.js';
import { StudyEngine } from '../../../src/engine/study-engine.js';
import type { TrialView } from '../../../src/engine/trial-view.js';
import { PRUNERS } from '../../../src/pruners/index.js';
import { SAMPLERS } from '../../../src/samplers/index.js';
import { spec } from '../../support/specs.js';

function trial(index: number, state: TrialState, value?: number): TrialView {
  return { index, params: {}, state, intermediate: [], ...(value !== undefined ? { value } : {}) };
}

describe('study engine decisions', () => {
  it('fills free slots up to parallelism and stops at maxTrials', async () => {
    const engine = new StudyEngine(spec({ maxTrials: 5, parallelism: 3 }));
    assert.deepEqual(
      (await engine.plan([])).map((p) => p.index),
      [0, 1, 2],
    );
    const history = [trial(0, 'Succeeded', 1), trial(1, 'Running'), trial(2, 'Running')];
    assert.deepEqual(
      (await engine.plan(history)).map((p) => p.index),
      [3],
    );
    const full = [...history, trial(3, 'Running'), trial(4, 'Succeeded', 2)];
    assert.deepEqual(await engine.plan(full), []);
    assert.deepEqual(engine.outcome(full), { done: false });
    const done = full.map((t) =>
      t.state === 'Running' ? { ...t, state: 'Succeeded' as const, value: 3 } : t,
    );
    const outcome = engine.outcome(done);
    assert.equal(outcome.done && outcome.reason, 'MaxTrialsReached');
  });

  it('continues indices after gaps, so names never repeat', async () => {
    const engine = new StudyEngine(spec({ maxTrials: 10, parallelism: 2 }));
    assert.deepEqual(
      (await engine.plan([trial(0, 'Succeeded', 1), trial(4, 'Failed')])).map((p) => p.index),
      [5, 6],
    );
  });

  it('stops when the target is reached, for minimize and maximize', () => {
    const min = new StudyEngine(spec({ objective: { metric: 'loss', goal: 'minimize', target: 0.1 } }));
    assert.deepEqual(min.outcome([trial(0, 'Succeeded', 0.2), trial(1, 'Running')]), { done: false });
    const reached = min.outcome([trial(0, 'Succeeded', 0.1), trial(1, 'Running')]);
    assert.equal(reached.done && reached.reason, 'TargetReached');
    const max = new StudyEngine(spec({ objective: { metric: 'acc', goal: 'maximize', target: 0.9 } }));
    assert.deepEqual(max.outcome([trial(0, 'Succeeded', 0.2)]), { done: false });
    const maxReached = max.outcome([trial(0, 'Succeeded', 0.95)]);
    assert.equal(maxReached.done && maxReached.reason, 'TargetReached');
  });

  it('fails the study once failures exceed maxFailedTrials, counting MetricsUnavailable', () => {
    const engine = new StudyEngine(spec({ maxFailedTrials: 2, maxTrials: 10 }));
    assert.deepEqual(
      engine.outcome([trial(0, 'Failed'), trial(1, 'MetricsUnavailable'), trial(2, 'Running')]),
      { done: false },
    );
    const out = engine.outcome([trial(0, 'Failed'), trial(1, 'MetricsUnavailable'), trial(2, 'Failed')]);
    assert.equal(out.done && !out.succeeded && out.reason, 'MaxFailedTrialsExceeded');
  });

  it('ends as failed when the budget is spent without any value', () => {
    const engine = new StudyEngine(spec({ maxFailedTrials: 5, maxTrials: 2 }));
    const out = engine.outcome([trial(0, 'Failed'), trial(1, 'Pruned')]);
    assert.equal(out.done && !out.succeeded && out.reason, 'NoSuccessfulTrials');
  });

  it('picks the best trial by goal, ignoring pruned and failed trials unless opted in', () => {
    const history = [
      trial(0, 'Succeeded', 0.5),
      trial(1, 'Succeeded', 0.2),
      trial(2, 'Failed'),
      trial(3, 'Succeeded', 0.2),
    ];
    const pruned: TrialView = { ...trial(4, 'Pruned'), intermediate: [{ step: 1, value: 0.01 }] };
    const min = new StudyEngine(spec());
    assert.equal(min.best([...history, pruned])?.trial.index, 1, 'ties go to the earlier trial');
    const max = new StudyEngine(spec({ objective: { metric: 'acc', goal: 'maximize' } }));
    assert.equal(max.best(history)?.trial.index, 0);
    const optIn = new StudyEngine(spec(), { countPrunedInBest: true });
    assert.equal(optIn.best([...history, pruned])?.trial.index, 4);
  });

  it('suspends without losing anything', async () => {
    const engine = new StudyEngine(spec({ suspend: true, parallelism: 2 }));
    assert.deepEqual(await engine.plan([trial(0, 'Succeeded', 1)]), []);
    assert.deepEqual(engine.outcome([trial(0, 'Succeeded', 1)]), { done: false });
  });

  it('suggests the same parameters for the same seed and history (restart safety)', async () => {
    const a = new StudyEngine(spec({ seed: 42, parallelism: 4, algorithm: { name: 'sobol', settings: {} } }));
    const b = new StudyEngine(spec({ seed: 42, parallelism: 4, algorithm: { name: 'sobol', settings: {} } }));
    const history = [trial(0, 'Succeeded', 1)];
    assert.deepEqual(await a.plan(history), await b.plan(history));
    const c = new StudyEngine(spec({ seed: 43, parallelism: 4, algorithm: { name: 'sobol', settings: {} } }));
    assert.notDeepEqual(await a.plan(history), await c.plan(history));
  });
});

describe('sampler and pruner registries', () => {
  it('have an entry for every name the API accepts, which the type checker enforces', () => {
    const { cmaes: _cmaes, ...withoutCmaes } = SAMPLERS;
    // @ts-expect-error: a sampler registry must cover every algorithm name
    const _samplers: typeof SAMPLERS = withoutCmaes;
    const { hyperband: _hyperband, ...withoutHyperband } = PRUNERS;
    // @ts-expect-error: a pruner registry must cover every pruner name
    const _pruners: typeof PRUNERS = withoutHyperband;
    for (const name of ALGORITHMS) assert.equal(typeof SAMPLERS[name], 'function', `sampler ${name}`);
    for (const name of PRUNER_NAMES) assert.equal(typeof PRUNERS[name], 'function', `pruner ${name}`);
  });
});
