import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SettingsError } from '../../../src/engine/sampler.js';
import { StudyEngine } from '../../../src/engine/study-engine.js';
import { spec } from '../../support/specs.js';

const engineWith = (name: 'bayesian' | 'tpe', settings: Record<string, unknown>) =>
  new StudyEngine(spec({ algorithm: { name, settings } }));

function rejection(name: 'bayesian' | 'tpe', settings: Record<string, unknown>): SettingsError {
  try {
    engineWith(name, settings);
  } catch (err) {
    if (err instanceof SettingsError) return err;
    throw err;
  }
  assert.fail(`${JSON.stringify(settings)} was accepted`);
}

describe('sampler settings bounded by the suggestion budget', () => {
  const cases: [name: 'bayesian' | 'tpe', key: string, max: number][] = [
    ['bayesian', 'fitObservations', 200],
    ['bayesian', 'maxObservations', 500],
    ['bayesian', 'nCandidates', 5000],
    ['bayesian', 'localSteps', 200],
    ['tpe', 'nCandidates', 1000],
  ];
  for (const [name, key, max] of cases) {
    it(`${name} ${key}: accepts ${max}, rejects ${max + 1} naming the field, the bound and why`, () => {
      assert.doesNotThrow(() => engineWith(name, { [key]: max }));
      const err = rejection(name, { [key]: max + 1 });
      assert.equal(err.path, `algorithm.settings.${key}`);
      assert.equal(
        err.message,
        `algorithm.settings.${key}: must be <= ${max} (larger values make one suggestion outlast the operator's suggestion time budget (5 s by default)), got ${max + 1}`,
      );
    });
  }

  it('rejects the settings a user measured at 21 s per suggestion', () => {
    assert.match(
      rejection('bayesian', { fitObservations: 600, maxObservations: 600 }).message,
      /fitObservations|maxObservations/,
    );
  });
});
