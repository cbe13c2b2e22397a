// docs/study-reference.md is generated from the zod schemas; a schema change without
// `npm run gen:docs` fails here, as a stale CRD does in crd.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NOTES, renderStudyReference, studyReferenceRows } from '../../../scripts/study-reference.js';
import { repoRoot } from '../../support/helm.js';

describe('docs/study-reference.md', () => {
  it('matches the schemas (run npm run gen:docs after changing src/api)', () => {
    const committed = readFileSync(join(repoRoot, 'docs', 'study-reference.md'), 'utf8');
    assert.equal(committed, renderStudyReference(), 'docs/study-reference.md is stale: run npm run gen:docs');
  });

  it('has a note only for fields that exist', () => {
    const paths = new Set(studyReferenceRows().map((r) => r.path));
    for (const path of Object.keys(NOTES))
      assert.ok(paths.has(path), `NOTES names unknown field spec.${path}`);
  });

  it('lists required fields, defaults and enums', () => {
    const rows = new Map(studyReferenceRows().map((r) => [r.path, r]));
    assert.equal(rows.get('objective.metric')?.required, true);
    assert.equal(rows.get('maxTrials')?.default, 20);
    assert.match(rows.get('algorithm.name')?.constraints.join() ?? '', /`tpe`/);
  });
});
