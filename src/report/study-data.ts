import { primaryObjective } from '../api/objectives.js';
import type { ParameterSpec } from '../api/parameter.js';
import type { StudySpec } from '../api/study.js';
import type { PriorsStatus } from '../api/warm-start.js';
import { gpImportance } from './importance.js';
import type { ReportParameter, ReportStudy, ReportTrial } from './model.js';

export function reportParameters(parameters: readonly ParameterSpec[]): ReportParameter[] {
  return parameters.map((p) => ({
    name: p.name,
    type: p.type,
    log: p.log ?? false,
    ...(p.values ? { values: [...p.values] } : {}),
  }));
}

/** A study as the page sees it, with parameter importance computed from its trials. */
export function reportStudy(
  id: string,
  name: string,
  spec: StudySpec,
  trials: ReportTrial[],
  extra: { logUrl?: string; priors?: PriorsStatus } = {},
): ReportStudy {
  const fit = gpImportance(spec.parameters, trials, primaryObjective(spec).goal);
  return {
    id,
    name,
    goal: primaryObjective(spec).goal,
    metric: primaryObjective(spec).metric,
    parameters: reportParameters(spec.parameters),
    trials: [...trials].sort((a, b) => a.index - b.index),
    ...('importance' in fit ? { importance: fit.importance } : { importanceNote: fit.note }),
    ...extra,
  };
}
