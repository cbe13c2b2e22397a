import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { trackedMetrics } from '../api/objectives.js';
import type { StudySpec } from '../api/study.js';
import type { StudyOutcome } from '../engine/study-engine.js';
import type { LocalTrial } from './local-trial.js';
import type { PriorRecord } from './priors.js';

export interface StudyResults {
  study: string;
  spec: StudySpec;
  outcome: StudyOutcome;
  interrupted: boolean;
  best?: {
    trial: string;
    index: number;
    value: number;
    parameters: Record<string, string>;
    metrics: Record<string, number>;
  };
  /**
   * With several objectives: the feasible non-dominated trials (all of them, unlike the
   * Study status, which lists at most 20), values in the order of `objectives`.
   */
  paretoFront?: {
    objectives: string[];
    trials: { trial: string; index: number; values: number[]; parameters: Record<string, string> }[];
  };
  trials: LocalTrial[];
  /** Warm-start results the sampler saw: not trials of this study, listed apart. */
  priors: PriorRecord[];
}

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const s = String(value);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function trialsCsv(spec: StudySpec, trials: readonly LocalTrial[]): string {
  const params = spec.parameters.map((p) => p.name);
  const metrics = trackedMetrics(spec);
  const header = [
    'trial',
    'index',
    'state',
    'objective',
    ...params.map((p) => `param.${p}`),
    ...metrics.map((m) => `metric.${m}`),
    'devices',
    'start',
    'end',
    'reason',
    'message',
  ];
  const rows = [...trials]
    .sort((a, b) => a.index - b.index)
    .map((t) => [
      t.name,
      t.index,
      t.state,
      t.value,
      ...params.map((p) => t.formattedParams[p]),
      ...metrics.map((m) => t.metrics[m]),
      t.devices?.join(','),
      t.startTime,
      t.completionTime,
      t.reason,
      t.message,
    ]);
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

/** Writes results.json and trials.csv; returns their paths. */
export function writeResults(outputDir: string, results: StudyResults): { json: string; csv: string } {
  const json = join(outputDir, 'results.json');
  const csv = join(outputDir, 'trials.csv');
  writeFileSync(json, JSON.stringify(results, null, 2) + '\n');
  writeFileSync(csv, trialsCsv(results.spec, results.trials));
  return { json, csv };
}
