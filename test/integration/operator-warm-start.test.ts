// Warm starts on the real control plane: spec.initialTrials are the first trials, and
// spec.priorStudies feeds an earlier Study's finished trials to the sampler without making them
// trials of the new study.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StudySpec } from '../../src/api/study.js';
import { StudyEngine } from '../../src/engine/study-engine.js';
import { runCli } from '../support/run-cli.js';
import { createTestNamespace, kubeconfigPath } from './support/cluster.js';
import {
  createStudy,
  fakeTrainerTemplate,
  listTrials,
  operatorSuite,
  waitForStudyEnd,
} from './support/operator.js';

const parameters = [
  { name: 'x', type: 'double', min: 0, max: 1 },
  { name: 'y', type: 'double', min: 0, max: 1 },
];
const template = fakeTrainerTemplate(['--x=${params.x}', '--y=${params.y}', '--epochs=1']);

describe('operator warm starts on the real test cluster', () => {
  const suite = operatorSuite();

  it('runs initialTrials first and seeds the sampler from priorStudies, counting only its own trials', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-warm');
    const op = suite.start(['--namespaces', ns]);
    const objective = { metric: 'loss', goal: 'minimize' };
    await createStudy(suite.api, ns, 'earlier', {
      objective,
      algorithm: { name: 'random' },
      parameters,
      maxTrials: 4,
      parallelism: 2,
      initialTrials: [{ params: { x: 0.3, y: 0.7 } }],
      trialTemplate: template,
    });
    await waitForStudyEnd(suite.api, ns, 'earlier', 120_000, op);
    const earlier = await listTrials(suite.api, ns, 'earlier');
    assert.deepEqual(earlier[0]?.spec.parameters, { x: '0.3', y: '0.7' }, 'initialTrials[0] is trial 0');

    const laterSpec = {
      objective,
      algorithm: { name: 'tpe', settings: { nStartup: 4 } },
      parameters,
      maxTrials: 1,
      seed: 5,
      priorStudies: ['earlier'],
      trialTemplate: template,
    };
    await createStudy(suite.api, ns, 'later', laterSpec);
    const later = await waitForStudyEnd(suite.api, ns, 'later', 120_000, op);
    assert.equal(later.status?.phase, 'Succeeded', JSON.stringify(later.status?.conditions));
    const trials = await listTrials(suite.api, ns, 'later');
    assert.deepEqual(
      trials.map((tr) => tr.spec.index),
      [0],
      'priors do not count toward maxTrials',
    );
    // Reported apart: status.trials and status.bestTrial are the study's own.
    assert.deepEqual(later.status?.priors, { trials: 4, studies: [{ name: 'earlier', trials: 4 }] });
    assert.equal(later.status?.trials?.total, 1);
    assert.equal(later.status?.bestTrial?.name, trials[0]?.metadata.name);
    const shown = await runCli(['status', 'later', '-n', ns, '--kubeconfig', kubeconfigPath]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^trials: 1 total, /m);
    assert.match(
      shown.stdout,
      /^priors: 4 finished trials of earlier studies seeded the sampler \(earlier: 4\); not counted above$/m,
    );

    // With the 4 priors, TPE is past its 4 startup points at once: trial 0 is the model's pick,
    // which the engine reproduces from the same priors, and not the startup point it is without.
    const spec = StudySpec.parse(laterSpec);
    const space = new StudyEngine(spec).space;
    const priors = earlier.map((tr) => ({
      params: space.parse(tr.spec.parameters),
      state: 'Succeeded' as const,
      value: tr.status?.objective as number,
    }));
    const warm = await new StudyEngine(spec, { priors }).plan([], 1);
    const cold = await new StudyEngine(spec).plan([], 1);
    assert.deepEqual(trials[0]?.spec.parameters, space.format(warm[0]!.params));
    assert.notDeepEqual(trials[0]?.spec.parameters, space.format(cold[0]!.params));

    await createStudy(suite.api, ns, 'orphaned', { ...laterSpec, priorStudies: ['never-created'] });
    const orphaned = await waitForStudyEnd(suite.api, ns, 'orphaned', 120_000, op);
    assert.equal(orphaned.status?.phase, 'Failed');
    const failed = orphaned.status?.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.reason, 'InvalidSpec');
    assert.equal(
      failed?.message,
      `spec.priorStudies[0]: Study never-created does not exist in namespace ${ns}`,
    );
  });
});
