import { readFileSync } from 'node:fs';
import { parseStudyManifest, type LocatedError } from '../api/manifest.js';
import type { StudyManifest } from '../api/study.js';
import { SettingsError } from '../engine/sampler.js';
import { StudyEngine } from '../engine/study-engine.js';
import { yaml11Differences } from './yaml-1.1.js';

export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

function formatErrors(file: string, errors: LocatedError[]): string {
  return [...errors]
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0))
    .map((e) => `${file}${e.line ? `:${e.line}` : ''}: ${e.path}: ${e.message}`)
    .join('\n');
}

export interface LoadedStudy {
  manifest: StudyManifest;
  /** `file:line: path: ...` for each value kubectl would read differently (see yaml-1.1.ts). */
  yaml11: string[];
}

/**
 * Reads and fully validates a Study file: the schema, then everything only the engine can check
 * (algorithm and early-stopping settings, search space limits). Values that kubectl would read
 * differently are returned, or listed after the errors of an invalid file, where they may be the
 * cause (`log: yes` is a string to kubetune).
 */
export function loadStudy(file: string): LoadedStudy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const yaml11 = yaml11Differences(text).map((d) => `${file}:${d.line}: ${d.path}: ${d.message}`);
  const invalid = (errors: string) =>
    new UserError([`${file} is not a valid Study:`, errors, ...yaml11].join('\n'));
  const result = parseStudyManifest(text);
  if (!result.ok) throw invalid(formatErrors(file, result.errors));
  try {
    new StudyEngine(result.study.spec);
  } catch (err) {
    if (err instanceof SettingsError) throw invalid(`${file}: spec.${err.message}`);
    throw err;
  }
  return { manifest: result.study, yaml11 };
}
