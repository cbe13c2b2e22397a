// Every manifest in examples/ must pass what `kubetune validate` checks: the schema, then the
// engine (sampler and pruner settings), with the sampler and pruner it names registered.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseStudyManifest } from '../../../src/api/manifest.js';
import { StudyEngine } from '../../../src/engine/study-engine.js';
import { PRUNERS } from '../../../src/pruners/index.js';
import { SAMPLERS } from '../../../src/samplers/index.js';
import { repoRoot } from '../../support/helm.js';

const dir = join(repoRoot, 'examples');
const files = readdirSync(dir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

describe('examples/', () => {
  it('has the cluster-ready examples the docs point to', () => {
    for (const f of [
      'mnist-gpu.yaml',
      'cross-validation.yaml',
      'prometheus-metrics.yaml',
      'pytorch-custom-image.yaml',
    ]) {
      assert.ok(files.includes(f), `examples/${f} exists`);
    }
  });

  for (const file of files) {
    describe(file, () => {
      const result = parseStudyManifest(readFileSync(join(dir, file), 'utf8'));

      it('is a valid Study manifest', () => {
        assert.ok(result.ok, `examples/${file}:\n${result.ok ? '' : JSON.stringify(result.errors, null, 2)}`);
        assert.ok(result.study.metadata.name, 'has metadata.name');
      });

      it('is accepted by the study engine', () => {
        assert.ok(result.ok, 'parsed');
        const spec = result.study.spec;
        assert.equal(
          typeof SAMPLERS[spec.algorithm.name],
          'function',
          `sampler ${spec.algorithm.name} is registered`,
        );
        if (spec.earlyStopping)
          assert.equal(
            typeof PRUNERS[spec.earlyStopping.name],
            'function',
            `pruner ${spec.earlyStopping.name} is registered`,
          );
        new StudyEngine(spec);
      });
    });
  }
});
