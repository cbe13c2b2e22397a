import { readFileSync } from 'node:fs';
import { parseStudyManifest, type LocatedError } from '../api/manifest.js';
import type { StudyManifest } from '../api/study.js';
import { SettingsError } from '../engine/sampler.js';
import { StudyEngine } from '../engine/study-engine.js';

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

/**
 * Reads and fully validates a Study file: the schema, then everything only the engine can check
 * (algorithm and early-stopping settings, search space limits).
 */
export function loadStudy(file: string): StudyManifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const result = parseStudyManifest(text);
  if (!result.ok) throw new UserError(`${file} is not a valid Study:\n${formatErrors(file, result.errors)}`);
  try {
    new StudyEngine(result.study.spec);
  } catch (err) {
    if (err instanceof SettingsError)
      throw new UserError(`${file} is not a valid Study:\n${file}: spec.${err.message}`);
    throw err;
  }
  return result.study;
}
