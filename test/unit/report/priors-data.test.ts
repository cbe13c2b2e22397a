// The report page's data says what seeded the sampler apart from the study's trials: a cluster
// Study's status.priors, or a local run's --prior files counted per file.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { StudySpec } from '../../../src/api/study.js';
import type { StudyResults } from '../../../src/local/results.js';
import type { StudyObject } from '../../../src/operator/kube/resources.js';
import { clusterStudy } from '../../../src/report/cluster-source.js';
import { localStudy } from '../../../src/report/from-local.js';
import { readResults } from '../../../src/report/local-report.js';

const spec = {
  objective: { metric: 'loss', goal: 'minimize' },
  parameters: [{ name: 'x', type: 'double', min: 0, max: 1 }],
  trialTemplate: { spec: { template: { spec: { containers: [{ name: 't', image: 'x' }] } } } },
};

function results(priors: StudyResults['priors']): StudyResults {
  return {
    study: 'local',
    spec: StudySpec.parse(spec),
    outcome: { done: false },
    interrupted: false,
    trials: [],
    priors,
  } as unknown as StudyResults;
}

describe('priors in the report data', () => {
  it("counts a local run's priors per --prior file, in the order given", () => {
    const prior = (source: string, value?: number) => ({
      params: { x: '0.5' },
      state: value === undefined ? ('Failed' as const) : ('Succeeded' as const),
      ...(value === undefined ? {} : { value }),
      source,
    });
    const study = localStudy(results([prior('b.json', 1), prior('a.json', 2), prior('b.json')]), {
      withLogs: false,
    });
    assert.deepEqual(study.priors, {
      trials: 3,
      studies: [
        { name: 'b.json', trials: 2 },
        { name: 'a.json', trials: 1 },
      ],
    });
    assert.deepEqual(study.trials, []);
    assert.equal(localStudy(results([]), { withLogs: false }).priors, undefined);
  });

  it('reads a results.json written before warm starts as having no priors', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kt-priors-')), 'results.json');
    writeFileSync(file, JSON.stringify({ study: 'old', spec, trials: [] }));
    assert.equal(localStudy(readResults(file), { withLogs: false }).priors, undefined);
  });

  it("passes a cluster Study's status.priors through", () => {
    const priors = { trials: 4, studies: [{ name: 'earlier', trials: 4 }] };
    const study: StudyObject = {
      apiVersion: 'kubetune.io/v1alpha1',
      kind: 'Study',
      metadata: { name: 'later', namespace: 'ns' },
      spec,
      status: { priors },
    } as unknown as StudyObject;
    assert.deepEqual(clusterStudy(study, [], new Date())?.priors, priors);
  });
});
