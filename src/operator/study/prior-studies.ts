import type { Assignment } from '../../api/parameter.js';
import { StudySpec } from '../../api/study.js';
import { MAX_PRIOR_TRIALS, type PriorsStatus } from '../../api/warm-start.js';
import { SearchSpace } from '../../engine/search-space.js';
import type { PriorTrial } from '../../engine/study-engine.js';
import type { TrialStore } from './trial-store.js';

function parsedOrUndefined(space: SearchSpace, record: Record<string, string>): Assignment | undefined {
  try {
    return space.parse(record);
  } catch {
    return undefined;
  }
}

export type PriorsResult =
  { ok: true; priors: PriorTrial[]; status: PriorsStatus } | { ok: false; message: string };

/**
 * The finished trials of spec.priorStudies, read once per generation of the study (the caller
 * caches the engine built from them): succeeded ones with their objective, failed ones as places
 * to avoid. Each prior Study must exist in the namespace and search the same parameters; at most
 * MAX_PRIOR_TRIALS are taken, lowest indices of each study first, so a huge prior study cannot
 * make every suggestion slower. `status` counts them per study, for status.priors.
 */
export async function loadPriorTrials(
  store: Pick<TrialStore, 'getStudy' | 'listTrials'>,
  namespace: string,
  self: string,
  spec: StudySpec,
): Promise<PriorsResult> {
  const space = new SearchSpace(spec.parameters);
  const priors: PriorTrial[] = [];
  const studies: PriorsStatus['studies'] = [];
  for (const [i, name] of spec.priorStudies.entries()) {
    const field = `spec.priorStudies[${i}]`;
    // Its own trials would be read back as evidence about themselves, and counted twice.
    if (name === self) return { ok: false, message: `${field}: a Study cannot be its own prior` };
    const study = await store.getStudy(namespace, name);
    if (!study)
      return { ok: false, message: `${field}: Study ${name} does not exist in namespace ${namespace}` };
    const theirs = StudySpec.safeParse(study.spec);
    if (!theirs.success || JSON.stringify(theirs.data.parameters) !== JSON.stringify(spec.parameters))
      return {
        ok: false,
        message: `${field}: Study ${name} searched other parameters; priors must come from a Study with the same spec.parameters`,
      };
    const trials = (await store.listTrials(namespace, name)).sort((a, b) => a.spec.index - b.spec.index);
    const before = priors.length;
    for (const t of trials) {
      if (priors.length >= MAX_PRIOR_TRIALS) break;
      const params = parsedOrUndefined(space, t.spec.parameters);
      const state = t.status?.state;
      const value = t.status?.objective;
      // A trial whose parameters no longer parse (its study was edited) is no evidence here.
      if (!params) continue;
      if (state === 'Succeeded' && value !== undefined) priors.push({ params, state, value });
      else if (state === 'Failed' || state === 'MetricsUnavailable') priors.push({ params, state: 'Failed' });
    }
    studies.push({ name, trials: priors.length - before });
  }
  return { ok: true, priors, status: { trials: priors.length, studies } };
}
