import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ParameterSpec } from '../api/parameter.js';
import type { StudySpec } from '../api/study.js';
import { MAX_PRIOR_TRIALS } from '../api/warm-start.js';
import { SearchSpace } from '../engine/search-space.js';
import type { PriorTrial } from '../engine/study-engine.js';

/** A prior as journals and results.json record it: formatted parameters, so it reads back exactly. */
export const PriorRecord = z.strictObject({
  params: z.record(z.string(), z.string()),
  state: z.enum(['Succeeded', 'Failed']),
  value: z.number().optional(),
  source: z.string(),
});
export type PriorRecord = z.output<typeof PriorRecord>;

/** The parts of an earlier run's results.json that a warm start reads. */
const PriorResults = z.object({
  spec: z.object({ parameters: z.array(ParameterSpec) }),
  trials: z.array(
    z.object({
      formattedParams: z.record(z.string(), z.string()),
      state: z.string(),
      value: z.number().optional(),
    }),
  ),
});

/**
 * The finished trials of an earlier local run (its results.json) over the same search space:
 * succeeded ones with their value, failed ones as places to avoid. Pruned and interrupted
 * trials say nothing reliable about their parameters and are skipped.
 */
export function readPriorResults(file: string, spec: StudySpec): PriorRecord[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`--prior ${file}: cannot read it as JSON (${(err as Error).message})`);
  }
  const parsed = PriorResults.safeParse(json);
  if (!parsed.success)
    throw new Error(
      `--prior ${file}: not the results.json of a kubetune run (${parsed.error.issues[0]?.message})`,
    );
  const theirs = JSON.stringify(parsed.data.spec.parameters);
  if (theirs !== JSON.stringify(spec.parameters))
    throw new Error(
      `--prior ${file}: its study searched other parameters; priors must come from the same spec.parameters (theirs: ${theirs})`,
    );
  return parsed.data.trials.flatMap((t): PriorRecord[] => {
    if (t.state === 'Succeeded' && t.value !== undefined)
      return [{ params: t.formattedParams, state: 'Succeeded', value: t.value, source: file }];
    if (t.state === 'Failed' || t.state === 'MetricsUnavailable')
      return [{ params: t.formattedParams, state: 'Failed', source: file }];
    return [];
  });
}

/** Priors as the engine takes them; more than MAX_PRIOR_TRIALS is refused, not truncated. */
export function enginePriors(records: readonly PriorRecord[], spec: StudySpec): PriorTrial[] {
  if (records.length > MAX_PRIOR_TRIALS)
    throw new Error(
      `the priors hold ${records.length} finished trials, more than ${MAX_PRIOR_TRIALS}; pass fewer --prior files`,
    );
  const space = new SearchSpace(spec.parameters);
  return records.map((r) => ({
    params: space.parse(r.params),
    state: r.state,
    ...(r.value === undefined ? {} : { value: r.value }),
  }));
}
