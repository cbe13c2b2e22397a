import type { Assignment } from '../api/parameter.js';
import type { Goal } from '../api/study.js';
import type { IntermediateValue, TrialState } from '../api/trial.js';
import { TERMINAL_TRIAL_STATES } from '../api/trial.js';

/**
 * What the engine knows of a trial. The operator builds these from Trial objects and the local
 * runner from its processes; the engine never sees where they came from.
 */
export interface TrialView {
  readonly index: number;
  readonly params: Assignment;
  readonly state: TrialState;
  /** Final objective value; present for Succeeded trials, and for Pruned ones when known. */
  readonly value?: number;
  readonly intermediate: readonly IntermediateValue[];
  /** Final values of every tracked metric: the other objectives and the constrained metrics. */
  readonly metrics?: Readonly<Record<string, number>>;
  /** GPU-hours the trial has used (GPU request × running time, up to now while it runs). */
  readonly gpuHours?: number;
}

export const isActive = (t: TrialView): boolean => !TERMINAL_TRIAL_STATES.has(t.state);
export const isFailure = (t: TrialView): boolean => t.state === 'Failed' || t.state === 'MetricsUnavailable';

/** Sign that turns the study's goal into minimisation, the form every sampler works in. */
export const goalSign = (goal: Goal): 1 | -1 => (goal === 'minimize' ? 1 : -1);

export function better(goal: Goal, a: number, b: number): boolean {
  return goal === 'minimize' ? a < b : a > b;
}

/** Best value among a trial's intermediate reports (used for pruned trials when opted in). */
export function bestIntermediate(goal: Goal, t: TrialView): number | undefined {
  let best: number | undefined;
  for (const { value } of t.intermediate) if (best === undefined || better(goal, value, best)) best = value;
  return best;
}
