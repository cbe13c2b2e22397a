// The chart ships its own copy of the CRDs (Helm installs crds/ before templates). Both copies
// are written by `npm run gen:crds`; this fails when one was edited or regenerated alone.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderCrdFiles } from '../../../src/api/crd-files.js';
import { chartDir, repoRoot } from '../../support/helm.js';

const crdDir = join(repoRoot, 'deploy', 'crds');
const chartCrdDir = join(chartDir, 'crds');
const hint = 'run npm run gen:crds';

describe('chart CRDs', () => {
  it('hold the same files as deploy/crds', () => {
    assert.deepEqual(readdirSync(chartCrdDir).sort(), readdirSync(crdDir).sort(), hint);
  });

  it('have the same contents as deploy/crds', () => {
    for (const file of readdirSync(crdDir)) {
      assert.equal(
        readFileSync(join(chartCrdDir, file), 'utf8'),
        readFileSync(join(crdDir, file), 'utf8'),
        `deploy/helm/kubetune/crds/${file} differs from deploy/crds/${file}: ${hint}`,
      );
    }
  });

  it('match what the zod schemas generate', () => {
    for (const [file, text] of Object.entries(renderCrdFiles())) {
      assert.equal(
        readFileSync(join(chartCrdDir, file), 'utf8'),
        text,
        `chart crds/${file} is stale: ${hint}`,
      );
    }
  });
});
