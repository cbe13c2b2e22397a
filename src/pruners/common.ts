import type { Goal } from '../api/study.js';
import type { PruneDecision } from '../engine/pruner.js';
import { SettingsReader } from '../engine/settings.js';
import type { TrialView } from '../engine/trial-view.js';
import { goalSign, isFailure } from '../engine/trial-view.js';

/**
 * Shared helpers for the early-stopping pruners.
 *
 * The resource every pruner reasons about is the intermediate `step`: the `epoch=` or `step=`
 * value the trainer prints. "Step 3" means "after the third epoch" for an epoch-reporting trainer.
 */

export const SETTINGS_PATH = 'earlyStopping.settings';
export const KEEP: PruneDecision = { prune: false };

export function reader(settings: Readonly<Record<string, unknown>>): SettingsReader {
  const r = new SettingsReader(settings, SETTINGS_PATH);
  // Read by the StudyEngine (OR-ed with the CLI flag); every pruner accepts it.
  r.boolean('countPrunedInBest', false);
  return r;
}

/** An optional number setting: undefined when absent, validated like any other when present. */
export function optionalNumber(
  settings: Readonly<Record<string, unknown>>,
  r: SettingsReader,
  key: string,
  rule: { min?: number; max?: number; integer?: boolean },
): number | undefined {
  if (settings[key] === undefined) return undefined;
  return r.number(key, { ...rule, default: 0 });
}

/** The largest reported step, or undefined for a trial without intermediate values. */
export function lastStep(t: TrialView): number | undefined {
  let last: number | undefined;
  for (const { step } of t.intermediate) if (last === undefined || step > last) last = step;
  return last;
}

/** The largest reported step below `below`, or -Infinity when there is none. */
export function stepBefore(t: TrialView, below: number): number {
  let prev = -Infinity;
  for (const { step } of t.intermediate) if (step < below && step > prev) prev = step;
  return prev;
}

/**
 * The trial's best value over steps <= `step` (in the goal's direction), provided the trial has
 * reached `step` (reported some step >= it). Undefined otherwise.
 */
export function bestUpTo(goal: Goal, t: TrialView, step: number): number | undefined {
  let reached = false;
  let best: number | undefined;
  const sign = goalSign(goal);
  for (const p of t.intermediate) {
    if (p.step >= step) reached = true;
    if (p.step <= step && Number.isFinite(p.value) && (best === undefined || sign * p.value < sign * best))
      best = p.value;
  }
  return reached ? best : undefined;
}

/**
 * The trial's value at the last reported step <= `step`, provided the trial has reached `step`.
 * Undefined if it has not reached `step` or reported nothing at or before it.
 */
export function valueAtOrBefore(t: TrialView, step: number): number | undefined {
  let reached = false;
  let at = -Infinity;
  let value: number | undefined;
  for (const p of t.intermediate) {
    if (p.step >= step) reached = true;
    if (p.step <= step && p.step >= at && Number.isFinite(p.value)) {
      at = p.step;
      value = p.value;
    }
  }
  return reached ? value : undefined;
}

/** Trials whose intermediate values count as evidence: everything but failures. */
export function isEvidence(t: TrialView): boolean {
  return !isFailure(t);
}

/** Linear-interpolation quantile (numpy's default) of ascending `sorted`, q in [0, 1]. */
export function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

/** Short, stable number formatting for reasons. */
export function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}
