import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { durationSeconds, StudySpec } from '../../../src/api/study.js';
import { formatZodError } from '../../../src/api/errors.js';
import type { TrialState } from '../../../src/api/trial.js';
import { StudyEngine } from '../../../src/engine/study-engine.js';
import type { TrialView } from '../../../src/engine/trial-view.js';
import { spec, specInput } from '../../support/specs.js';

function trial(index: number, state: TrialState, gpuHours: number, value?: number): TrialView {
  return { index, params: {}, state, intermediate: [], gpuHours, ...(value !== undefined ? { value } : {}) };
}

const problems = (budget: unknown) => {
  const r = StudySpec.safeParse(specInput({ budget } as never), { reportInput: true });
  return r.success ? [] : formatZodError(r.error, ['spec']).map((e) => `${e.path}: ${e.message}`);
};

describe('spec.budget', () => {
  it('reads wallClock durations in hours, minutes and seconds', () => {
    assert.equal(durationSeconds('2h30m'), 9000);
    assert.equal(durationSeconds('90s'), 90);
    assert.equal(durationSeconds('1h1m1s'), 3661);
    assert.equal(durationSeconds('1.5h'), undefined);
    assert.equal(durationSeconds(''), undefined);
  });

  it('refuses a bad budget with the field, what was wrong and what is allowed', () => {
    assert.deepEqual(problems({ gpuHours: 1, wallClock: '30m' }), []);
    assert.match(problems({ gpuHours: 0 }).join(), /spec\.budget\.gpuHours: must be > 0, got 0/);
    assert.match(
      problems({ wallClock: '2 hours' }).join(),
      /spec\.budget\.wallClock: must be a duration .*"2h30m"/,
    );
    assert.match(problems({ wallClock: '0h0m' }).join(), /spec\.budget\.wallClock: must be longer than 0s/);
    assert.match(problems({ cpuHours: 1 }).join(), /spec\.budget/);
  });
});

describe('budget.gpuHours stopping rule', () => {
  const engine = new StudyEngine(spec({ maxTrials: 100, parallelism: 1, budget: { gpuHours: 1 } }));

  it('starts a trial only while one more trial (the mean of the finished ones) still fits', () => {
    const two = [trial(0, 'Succeeded', 0.3, 1), trial(1, 'Succeeded', 0.3, 2)];
    assert.equal(engine.budget(two, 1), 1, '0.6 used + 0.3 expected fits in 1');
    const three = [...two, trial(2, 'Succeeded', 0.3, 3)];
    assert.equal(engine.budget(three, 1), 0, '0.9 used + 0.3 expected passes 1');
    const outcome = engine.outcome(three);
    assert.equal(outcome.done && outcome.reason, 'BudgetExhausted');
    assert.equal(outcome.done && outcome.succeeded, true);
    assert.match(outcome.done ? outcome.message : '', /budget\.gpuHours spent: 0\.9 of 1 GPU-hours used/);
  });

  it('lets running trials finish: not over while one runs, and counts it at least at the mean', () => {
    const history = [trial(0, 'Succeeded', 0.4, 1), trial(1, 'Running', 0.1)];
    assert.equal(engine.budget(history, 1), 0, '0.4 + 0.4 expected for the running one + 0.4 passes 1');
    assert.deepEqual(engine.outcome(history), { done: false });
  });

  it('without a finished trial to estimate from, starts trials only while under the budget', () => {
    const wide = new StudyEngine(spec({ maxTrials: 100, parallelism: 4, budget: { gpuHours: 1 } }));
    assert.equal(wide.budget([], 4), 4);
    assert.equal(wide.budget([trial(0, 'Failed', 0)], 4), 4);
    assert.equal(wide.budget([trial(0, 'Running', 1.2)], 4), 0);
  });

  it('ends within one trial of the budget when trials vary (simulated study)', () => {
    const hours = [0.05, 0.2, 0.1, 0.3, 0.15, 0.25, 0.1, 0.2, 0.05, 0.3];
    const history: TrialView[] = [];
    while (engine.budget(history, 1) > 0) {
      history.push(trial(history.length, 'Succeeded', hours[history.length % hours.length]!, 1));
    }
    const used = history.reduce((s, t) => s + (t.gpuHours ?? 0), 0);
    assert.ok(used <= 1 + Math.max(...hours), `used ${used}`);
    assert.ok(used > 1 - Math.max(...hours), `stopped early at ${used}`);
    const outcome = engine.outcome(history);
    assert.equal(outcome.done && outcome.reason, 'BudgetExhausted');
  });

  it('is not exhausted when maxTrials ends the study first', () => {
    const small = new StudyEngine(spec({ maxTrials: 2, budget: { gpuHours: 0.5 } }));
    const outcome = small.outcome([trial(0, 'Succeeded', 0.3, 1), trial(1, 'Succeeded', 0.3, 2)]);
    assert.equal(outcome.done && outcome.reason, 'MaxTrialsReached');
  });
});

describe('budget.wallClock stopping rule', () => {
  const engine = new StudyEngine(spec({ maxTrials: 100, budget: { wallClock: '1h' } }));
  const history = [trial(0, 'Succeeded', 0, 1), trial(1, 'Running', 0)];

  it('ends the study, active trials included, once the wall clock is spent', () => {
    assert.deepEqual(engine.outcome(history, 3599), { done: false });
    const outcome = engine.outcome(history, 3600);
    assert.equal(outcome.done && outcome.reason, 'BudgetExhausted');
    assert.match(
      outcome.done ? outcome.message : '',
      /budget\.wallClock 1h spent: the study ran 3600s of 3600s/,
    );
    assert.equal(
      engine.budget(history, 1),
      1,
      'the wall clock is judged by outcome(), with the elapsed time',
    );
  });

  it('fails the study when no trial produced the objective before the clock ran out', () => {
    const outcome = engine.outcome([trial(0, 'Running', 0)], 4000);
    assert.equal(outcome.done && outcome.succeeded, false);
    assert.match(outcome.done ? outcome.message : '', /none of 1 trials produced loss/);
  });
});
