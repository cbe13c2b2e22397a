import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StudySpec } from '../api/study.js';
import type { LocalTrial } from '../local/local-trial.js';
import type { StudyResults } from '../local/results.js';
import { localStudy } from './from-local.js';
import { reportHtml } from './html.js';

/** Writes report.html next to results.json; returns its path. */
export function writeReport(
  outputDir: string,
  results: StudyResults,
  file = join(outputDir, 'report.html'),
): string {
  const study = localStudy(results, { withLogs: true });
  writeFileSync(file, reportHtml({ generatedAt: new Date().toISOString(), studies: [study] }));
  return file;
}

/**
 * Reads a results.json written by `kubetune run`, with a precise error for anything else. Logs
 * are looked up next to the file first, so a results directory that was moved keeps its logs.
 */
export function readResults(path: string): StudyResults {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const r = raw as Partial<StudyResults> | null;
  if (!r || typeof r !== 'object' || typeof r.study !== 'string' || !Array.isArray(r.trials))
    throw new Error(`${path}: not a kubetune results.json (expected "study" and a "trials" array)`);
  const spec = StudySpec.safeParse(r.spec);
  if (!spec.success)
    throw new Error(
      `${path}: spec: ${spec.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const logs = join(dirname(path), 'logs');
  const trials = r.trials.map((t: LocalTrial) => {
    const moved = join(logs, `${t.name}.log`);
    return existsSync(moved) ? { ...t, logFile: moved } : t;
  });
  // A results.json from before warm starts has no priors.
  return { ...(r as StudyResults), spec: spec.data, trials, priors: r.priors ?? [] };
}
