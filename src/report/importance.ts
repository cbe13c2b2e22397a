import type { ParameterSpec } from '../api/parameter.js';
import type { Goal } from '../api/study.js';
import { SearchSpace } from '../engine/search-space.js';
import { fitHyper } from '../samplers/gp.js';
import { categoryCounts } from '../samplers/history.js';
import type { ParameterImportance, ReportTrial } from './model.js';

/**
 * At most this many trials are fitted: the GP fit is cubic in their number, and a report of a
 * 10,000-trial study must still be written in well under a second.
 */
export const MAX_FITTED_TRIALS = 150;
const MIN_FITTED_TRIALS = 4;

export const IMPORTANCE_METHOD =
  'Gaussian-process ARD: a Matérn 5/2 GP with one length scale ℓ per parameter is fitted to the ' +
  'finished trials (inputs on the unit cube, standardised objective); importance ∝ 1/ℓ, normalised to sum to 1.';

/** Evenly spaced by position, so the choice depends only on the trials, never on chance. */
function thin<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  return Array.from({ length: max }, (_, i) => items[Math.floor((i * items.length) / max)] as T);
}

/**
 * Parameter importance from the same GP the bayesian sampler fits: a short length scale means the
 * objective changes quickly along that parameter. Undefined (with the reason) when there are too
 * few finished trials for a fit to mean anything.
 */
export function gpImportance(
  parameters: readonly ParameterSpec[],
  trials: readonly ReportTrial[],
  goal: Goal,
): { importance: ParameterImportance } | { note: string } {
  const done = trials.filter((t) => t.state === 'Succeeded' && Number.isFinite(t.value));
  if (parameters.length === 0) return { note: 'the study has no parameters' };
  if (done.length < MIN_FITTED_TRIALS)
    return { note: `needs at least ${MIN_FITTED_TRIALS} succeeded trials, has ${done.length}` };
  const space = new SearchSpace(parameters);
  const fitted = thin(
    [...done].sort((a, b) => a.index - b.index),
    MAX_FITTED_TRIALS,
  );
  const x = fitted.map((t) => space.toUnit(t.params));
  const raw = fitted.map((t) => (goal === 'minimize' ? 1 : -1) * (t.value as number));
  const mean = raw.reduce((s, v) => s + v, 0) / raw.length;
  const sd = Math.sqrt(raw.reduce((s, v) => s + (v - mean) ** 2, 0) / raw.length) || 1;
  const y = Float64Array.from(raw, (v) => (v - mean) / sd);
  const hyper = fitHyper(x, y, categoryCounts(space));
  const inverse = hyper.logLs.map((l) => Math.exp(-l));
  const total = inverse.reduce((s, v) => s + v, 0);
  const scores: Record<string, number> = {};
  space.dims.forEach((d, i) => (scores[d.name] = (inverse[i] as number) / total));
  return {
    importance: {
      method: `${IMPORTANCE_METHOD} Fitted on ${fitted.length} of ${done.length} succeeded trials.`,
      scores,
    },
  };
}
