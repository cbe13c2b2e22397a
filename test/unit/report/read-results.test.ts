import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readResults } from '../../../src/report/local-report.js';

describe('kubetune report: reading results.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-read-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('says when the file is not JSON', () => {
    assert.throws(() => readResults(file('a.json', 'apiVersion: v1')), /a\.json.*not valid JSON/);
  });

  it('says what a results.json must hold', () => {
    assert.throws(
      () => readResults(file('b.json', '{"trials": 3}')),
      /b\.json: not a kubetune results\.json \(expected "study" and a "trials" array\)/,
    );
  });

  it('names the field of an invalid study spec', () => {
    const bad = { study: 's', trials: [], spec: { objective: { metric: 'loss', goal: 'sideways' } } };
    assert.throws(
      () => readResults(file('c.json', JSON.stringify(bad))),
      /c\.json: spec: .*objective\.goal: Invalid option: expected one of "minimize"\|"maximize"/,
    );
  });
});
