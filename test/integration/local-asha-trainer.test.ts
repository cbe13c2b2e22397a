import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../support/run-cli.js';

interface Results {
  outcome: { succeeded: boolean; reason: string };
  trials: {
    name: string;
    state: string;
    reason?: string;
    message?: string;
    prunedAtStep?: number;
    intermediate: { step: number }[];
  }[];
}

// Local runs need no cluster; this one lives with the integration tests because it trains the
// real tfjs trainer for half a minute.
describe('kubetune run examples/asha-local.yaml on the real trainer', () => {
  it('prunes trials at ASHA rungs and records them as Pruned with step and reason', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kt-asha-real-'));
    const res = await runCli(
      ['run', 'examples/asha-local.yaml', '--max-trials', '8', '--parallelism', '2', '--output', out],
      { timeoutMs: 600_000 },
    );
    assert.equal(res.code, 0, res.stderr);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
    assert.equal(results.trials.length, 8);
    const pruned = results.trials.filter((t) => t.state === 'Pruned');
    assert.ok(pruned.length >= 1, results.trials.map((t) => `${t.name}:${t.state}`).join(' '));
    for (const t of pruned) {
      assert.equal(t.reason, 'Pruned');
      assert.match(t.message ?? '', /^asha: at rung \d+ \(step \d+\)/);
      assert.ok(t.prunedAtStep !== undefined && t.prunedAtStep < 9);
      assert.ok(t.intermediate.length < 9, `${t.name} trained all epochs although pruned`);
    }
    assert.ok(results.trials.some((t) => t.state === 'Succeeded' && t.intermediate.length === 9));
  });
});
