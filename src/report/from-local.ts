import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { LocalTrial } from '../local/local-trial.js';
import type { PriorsStatus } from '../api/warm-start.js';
import type { StudyResults } from '../local/results.js';
import { trialGpuCounter } from '../engine/gpu-request.js';
import { trialGpuHours } from '../operator/study/study-status.js';
import type { ReportStudy, ReportTrial } from './model.js';
import { reportStudy } from './study-data.js';

/** How much of each trial's log report.html embeds: its end, where failures are explained. */
export const LOG_TAIL_BYTES = 16 * 1024;

/** The last `max` bytes of a file, or undefined when it cannot be read (a deleted log). */
export function readTail(path: string, max: number): string | undefined {
  let fd: number | undefined;
  try {
    const size = statSync(path).size;
    const length = Math.min(size, max);
    const buf = Buffer.alloc(length);
    fd = openSync(path, 'r');
    readSync(fd, buf, 0, length, size - length);
    const text = buf.toString('utf8');
    return size > max ? `… (first ${size - max} bytes left out)\n${text}` : text;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function localTrial(t: LocalTrial, gpus: number, withLog: boolean): ReportTrial {
  const log = withLog ? readTail(t.logFile, LOG_TAIL_BYTES) : undefined;
  return {
    name: t.name,
    index: t.index,
    state: t.state,
    params: { ...t.params },
    ...(t.value !== undefined ? { value: t.value } : {}),
    intermediate: t.intermediate,
    ...(t.prunedAtStep !== undefined ? { prunedAtStep: t.prunedAtStep } : {}),
    ...(t.reason !== undefined ? { reason: t.reason } : {}),
    ...(t.message !== undefined ? { message: t.message } : {}),
    startTime: t.startTime,
    ...(t.completionTime !== undefined ? { completionTime: t.completionTime } : {}),
    gpuHours: trialGpuHours(t, gpus, new Date(t.completionTime ?? t.startTime)),
    ...(log !== undefined ? { log } : {}),
  };
}

/** A local run's results as the page sees them; `withLogs` embeds each trial's log tail. */
export function localStudy(results: StudyResults, opts: { withLogs: boolean; logUrl?: string }): ReportStudy {
  const gpusOf = trialGpuCounter(results.study, results.spec);
  const trials = results.trials.map((t) =>
    localTrial(t, gpusOf({ name: t.name, index: t.index, params: t.formattedParams }), opts.withLogs),
  );
  return reportStudy(results.study, results.study, results.spec, trials, {
    ...(opts.logUrl ? { logUrl: opts.logUrl } : {}),
    ...(results.priors.length ? { priors: priorsBySource(results.priors) } : {}),
  });
}

/** The --prior results a run was seeded with, counted per file in the order they were given. */
function priorsBySource(priors: StudyResults['priors']): PriorsStatus {
  const counts = new Map<string, number>();
  for (const p of priors) counts.set(p.source, (counts.get(p.source) ?? 0) + 1);
  return {
    trials: priors.length,
    studies: [...counts].map(([name, trials]) => ({ name, trials })),
  };
}
