/**
 * What the report page draws, as embedded in report.html or sent by `kubetune dashboard`. Both the
 * Node side and the browser page import these types, so this module must stay free of Node APIs.
 */
import type { TrialState } from '../api/trial.js';
import type { PriorsStatus } from '../api/warm-start.js';

export interface ReportParameter {
  name: string;
  type: 'double' | 'int' | 'categorical';
  log: boolean;
  /** Categorical values, in order. */
  values?: string[];
}

export interface ReportTrial {
  name: string;
  index: number;
  state: TrialState;
  /** Numbers for numeric parameters, strings for categorical ones. */
  params: Record<string, number | string>;
  value?: number;
  intermediate: { step: number; value: number }[];
  prunedAtStep?: number;
  reason?: string;
  message?: string;
  startTime?: string;
  completionTime?: string;
  gpuHours: number;
  /** The end of the trial's log, embedded in report.html; the dashboard fetches logs instead. */
  log?: string;
}

export interface ParameterImportance {
  /** How the importances were computed, shown on the page. */
  method: string;
  /** Parameter name → share of importance; the shares sum to 1. */
  scores: Record<string, number>;
}

export interface ReportStudy {
  /** `name` for a local run, `namespace/name` in a cluster. */
  id: string;
  name: string;
  goal: 'minimize' | 'maximize';
  metric: string;
  parameters: ReportParameter[];
  trials: ReportTrial[];
  importance?: ParameterImportance;
  /** Why importance is missing (too few finished trials), shown in its place. */
  importanceNote?: string;
  /** Where the dashboard serves each trial's log: GET logUrl with `trial=NAME` added to its query. */
  logUrl?: string;
  /**
   * Results of earlier studies that seeded the sampler, per study (a Study in a cluster, a
   * --prior file locally); they are not among `trials`.
   */
  priors?: PriorsStatus;
}

export interface ReportData {
  generatedAt: string;
  /** Server-sent events URL that pushes a fresh ReportData when anything changes (dashboard only). */
  eventsUrl?: string;
  studies: ReportStudy[];
}
