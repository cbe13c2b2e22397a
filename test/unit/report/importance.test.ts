import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ParameterSpec } from '../../../src/api/parameter.js';
import { gpImportance, MAX_FITTED_TRIALS } from '../../../src/report/importance.js';
import type { ReportTrial } from '../../../src/report/model.js';

const PARAMS: ParameterSpec[] = [
  { name: 'x', type: 'double', min: 0, max: 1 },
  { name: 'noise', type: 'double', min: 0, max: 1 },
] as ParameterSpec[];

/** A fixed quasi-random design (no RNG): the objective depends on x only. */
function trials(n: number, value: (x: number, noise: number) => number): ReportTrial[] {
  return Array.from({ length: n }, (_, i) => {
    const x = (i * 0.618034) % 1;
    const noise = (i * 0.414214) % 1;
    return {
      name: `t-${i}`,
      index: i,
      state: 'Succeeded',
      params: { x, noise },
      value: value(x, noise),
      intermediate: [],
      gpuHours: 0,
    };
  });
}

describe('GP length-scale importance', () => {
  it('gives the parameter the objective depends on nearly all the importance', () => {
    const fit = gpImportance(
      PARAMS,
      trials(30, (x) => Math.sin(6 * x)),
      'minimize',
    );
    assert.ok('importance' in fit, JSON.stringify(fit));
    const { x, noise } = fit.importance.scores as { x: number; noise: number };
    assert.ok(x > 0.8 && Math.abs(x + noise - 1) < 1e-12, `x ${x}, noise ${noise}`);
    assert.match(fit.importance.method, /Fitted on 30 of 30 succeeded trials/);
  });

  it('is the same for the same trials (no randomness)', () => {
    const ts = trials(20, (x, noise) => x * x + 0.3 * noise);
    assert.deepEqual(gpImportance(PARAMS, ts, 'maximize'), gpImportance(PARAMS, ts, 'maximize'));
  });

  it('fits at most MAX_FITTED_TRIALS trials however many there are, and says so', () => {
    const fit = gpImportance(
      PARAMS,
      trials(1000, (x) => x),
      'minimize',
    );
    assert.ok('importance' in fit);
    assert.match(
      fit.importance.method,
      new RegExp(`Fitted on ${MAX_FITTED_TRIALS} of 1000 succeeded trials`),
    );
  });

  it('explains why it has no answer with too few succeeded trials', () => {
    const ts = trials(5, (x) => x).map((t, i) => (i < 2 ? t : { ...t, state: 'Failed' as const }));
    assert.deepEqual(gpImportance(PARAMS, ts, 'minimize'), {
      note: 'needs at least 4 succeeded trials, has 2',
    });
  });
});
