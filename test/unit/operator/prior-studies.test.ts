// spec.priorStudies as the reconciler reads them (loadPriorTrials over its store): which trials
// of the prior Studies seed the sampler, how status.priors counts them, and the two messages
// that make a Study InvalidSpec.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StudySpec } from '../../../src/api/study.js';
import { MAX_PRIOR_TRIALS } from '../../../src/api/warm-start.js';
import type { StudyObject, TrialObject } from '../../../src/operator/kube/resources.js';
import { loadPriorTrials } from '../../../src/operator/study/prior-studies.js';
import { PARAMS, studyObject, trialObject } from './support/fake-study-api.js';
import { specInput } from '../../support/specs.js';

/** The store's two reads, over Studies and Trials of namespace `ns` kept in memory. */
function store(studies: Record<string, { study: StudyObject; trials: TrialObject[] }>) {
  return {
    getStudy: async (namespace: string, name: string) =>
      namespace === 'ns' ? studies[name]?.study : undefined,
    listTrials: async (namespace: string, name: string) =>
      namespace === 'ns' ? (studies[name]?.trials ?? []) : [],
  };
}

const named = (name: string, spec: Record<string, unknown> = {}): StudyObject => {
  const s = studyObject(spec);
  return { ...s, metadata: { ...s.metadata, name } };
};

const finished = (index: number, status: TrialObject['status']) => trialObject(index, status);

const later = (priorStudies: string[]) => StudySpec.parse(specInput({ priorStudies }));

describe('prior studies (spec.priorStudies)', () => {
  it('takes the succeeded and failed trials of each, and counts them per study for status.priors', async () => {
    // An edit of its parameters left this one outside the search space: no evidence.
    const outside = finished(1, { state: 'Succeeded', objective: 0.2 });
    outside.spec = { ...outside.spec, parameters: { ...PARAMS, optimizer: 'lbfgs' } };
    const trials = {
      earlier: [
        finished(2, { state: 'Failed', reason: 'ExitCode' }),
        finished(0, { state: 'Succeeded', objective: 0.5 }),
        finished(1, { state: 'MetricsUnavailable' }),
        finished(3, { state: 'Running' }),
        finished(4, { state: 'Pruned' }),
      ],
      other: [finished(0, { state: 'Succeeded', objective: 0.1 }), outside],
    };
    const result = await loadPriorTrials(
      store({
        earlier: { study: named('earlier'), trials: trials.earlier },
        other: { study: named('other'), trials: trials.other },
      }),
      'ns',
      'later',
      later(['earlier', 'other']),
    );
    assert.ok(result.ok, result.ok ? '' : result.message);
    assert.deepEqual(
      result.priors.map((p) => [p.state, p.value]),
      [
        ['Succeeded', 0.5],
        ['Failed', undefined],
        ['Failed', undefined],
        ['Succeeded', 0.1],
      ],
    );
    assert.deepEqual(result.status, {
      trials: 4,
      studies: [
        { name: 'earlier', trials: 3 },
        { name: 'other', trials: 1 },
      ],
    });
  });

  it('stops at MAX_PRIOR_TRIALS in all, and says how many each study gave', async () => {
    const many = Array.from({ length: MAX_PRIOR_TRIALS + 5 }, (_, i) =>
      finished(i, { state: 'Succeeded', objective: i }),
    );
    const result = await loadPriorTrials(
      store({
        big: { study: named('big'), trials: many },
        small: { study: named('small'), trials: [finished(0, { state: 'Succeeded', objective: 1 })] },
      }),
      'ns',
      'later',
      later(['big', 'small']),
    );
    assert.ok(result.ok);
    assert.equal(result.priors.length, MAX_PRIOR_TRIALS);
    assert.deepEqual(result.status, {
      trials: MAX_PRIOR_TRIALS,
      studies: [
        { name: 'big', trials: MAX_PRIOR_TRIALS },
        { name: 'small', trials: 0 },
      ],
    });
  });

  it('refuses a prior Study that does not exist in the namespace, naming the entry', async () => {
    const result = await loadPriorTrials(
      store({ earlier: { study: named('earlier'), trials: [] } }),
      'ns',
      'later',
      later(['earlier', 'gone']),
    );
    assert.deepEqual(result, {
      ok: false,
      message: 'spec.priorStudies[1]: Study gone does not exist in namespace ns',
    });
  });

  it('refuses a Study that names itself, before reading its trials back as evidence', async () => {
    const result = await loadPriorTrials(
      store({
        later: { study: named('later'), trials: [finished(0, { state: 'Succeeded', objective: 1 })] },
      }),
      'ns',
      'later',
      later(['later']),
    );
    assert.deepEqual(result, { ok: false, message: 'spec.priorStudies[0]: a Study cannot be its own prior' });
  });

  it('refuses a Study named twice, saying which (zod here, CEL in the CRD)', () => {
    const parsed = StudySpec.safeParse(specInput({ priorStudies: ['earlier', 'other', 'earlier'] }));
    assert.ok(!parsed.success);
    assert.deepEqual(
      parsed.error.issues.map((i) => [i.path.join('.'), i.message]),
      [['priorStudies', 'must name each Study at most once; earlier appears twice']],
    );
  });

  it('refuses a prior Study that searched other parameters', async () => {
    const narrower = specInput().parameters.slice(0, 3);
    const result = await loadPriorTrials(
      store({
        earlier: { study: named('earlier', { parameters: narrower }), trials: [] },
      }),
      'ns',
      'later',
      later(['earlier']),
    );
    assert.deepEqual(result, {
      ok: false,
      message:
        'spec.priorStudies[0]: Study earlier searched other parameters; priors must come from a Study with the same spec.parameters',
    });
  });
});
