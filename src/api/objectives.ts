import type { Goal } from './study.js';

interface OneObjective {
  metric: string;
  additionalMetrics?: readonly string[] | undefined;
}

/** The fields of a study that say what a trial is judged by. */
export interface ObjectiveFields<O extends OneObjective = OneObjective> {
  objective?: O | undefined;
  objectives?: readonly { metric: string; goal: Goal }[] | undefined;
  constraints?: readonly { metric: string; max?: number | undefined; min?: number | undefined }[] | undefined;
}

/** A study's objectives in order; the one-objective shorthand gives a list of one. */
export function objectivesOf(
  spec: ObjectiveFields<OneObjective & { goal: Goal }>,
): { metric: string; goal: Goal }[] {
  if (spec.objectives) return spec.objectives.map(({ metric, goal }) => ({ metric, goal }));
  if (spec.objective) return [{ metric: spec.objective.metric, goal: spec.objective.goal }];
  // The schema requires one of the two; a spec without either never passed validation.
  throw new Error('the study has neither objective nor objectives');
}

/**
 * The metric whose curve is followed while a trial runs (intermediate values, the trial's
 * `objective` field, pruning): the objective, or the first of several.
 */
export function primaryObjective<O extends OneObjective>(
  spec: ObjectiveFields<O>,
): O | { metric: string; goal: Goal; target?: undefined } {
  const first = spec.objective ?? spec.objectives?.[0];
  if (!first) throw new Error('the study has neither objective nor objectives');
  return first;
}

/** Every metric a trial's output must be read for: objectives, additional metrics, constraints. */
export function trackedMetrics(spec: ObjectiveFields): string[] {
  return [
    ...new Set([
      ...(spec.objective ? [spec.objective.metric] : []),
      ...(spec.objectives ?? []).map((o) => o.metric),
      ...(spec.objective?.additionalMetrics ?? []),
      ...(spec.constraints ?? []).map((c) => c.metric),
    ]),
  ];
}
