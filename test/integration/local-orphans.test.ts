// Local runs need no cluster; this one lives with the integration tests because it SIGKILLs a real
// `kubetune run` and follows the trial processes it leaves, and their children, until they end.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../support/run-cli.js';
import {
  BOUND_MS,
  killGroups,
  liveMembers,
  requireProcfs,
  shellStudy,
  waitUntil,
} from '../unit/local/support/process-groups.js';

interface Entry {
  event: string;
  index?: number;
  pgid?: number;
}

interface Results {
  outcome: { reason: string };
  trials: { index: number; state: string }[];
}

function journal(out: string): Entry[] {
  const path = join(out, 'journal.jsonl');
  if (!existsSync(path)) return [];
  // The run may be writing its next line: only complete lines count.
  return readFileSync(path, 'utf8')
    .split('\n')
    .slice(0, -1)
    .map((l) => JSON.parse(l) as Entry);
}

const startedGroups = (out: string) =>
  journal(out)
    .filter((e) => e.event === 'started' && e.pgid !== undefined)
    .map((e) => e.pgid as number);

const MAX_TRIALS = 3;

describe('a SIGKILLed kubetune run leaves no trial processes behind', () => {
  it('its trials and their children end without --resume, which then finishes the study', async () => {
    requireProcfs();
    const dir = mkdtempSync(join(tmpdir(), 'kt-orphans-'));
    const hold = join(dir, 'hold');
    writeFileSync(hold, '');
    // While `hold` exists a trial is a shell waiting on two sleeps of its own; trial 1 ignores
    // SIGTERM (and so do its sleeps), so only the SIGKILL after the grace period ends it.
    const script = [
      `if [ "$KUBETUNE_TRIAL_INDEX" = 1 ]; then trap '' TERM; fi`,
      `if [ -e "${hold}" ]; then sleep 300 & sleep 300; fi`,
      'echo "loss=$1"',
    ].join('\n');
    const file = shellStudy(dir, { maxTrials: MAX_TRIALS, parallelism: 2, seed: 5 }, script);
    const out = join(dir, 'out');
    const run = runCli(['run', file, '--output', out], { timeoutMs: BOUND_MS });
    let groups: number[] = [];
    try {
      await waitUntil('both trials run, each as a shell with two sleeps', () => {
        groups = startedGroups(out);
        return groups.length === 2 && groups.every((g) => liveMembers(g).length === 3);
      });
      run.child.kill('SIGKILL');
      assert.equal((await run).code, null, 'killed by SIGKILL, not exited');
      await waitUntil(`no process of the trials' groups ${groups.join(', ')} is left`, () =>
        groups.every((g) => liveMembers(g).length === 0),
      );

      rmSync(hold);
      const resumed = await runCli(['run', '--resume', out], { timeoutMs: BOUND_MS });
      assert.equal(resumed.code, 0, resumed.stderr);
      const entries = journal(out);
      assert.deepEqual(
        entries.filter((e) => e.event === 'asked').map((e) => e.index),
        Array.from({ length: MAX_TRIALS }, (_, i) => i),
      );
      const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
      assert.equal(results.outcome.reason, 'MaxTrialsReached');
      assert.deepEqual(
        results.trials.map((t) => [t.index, t.state]),
        Array.from({ length: MAX_TRIALS }, (_, i) => [i, 'Succeeded']),
      );
    } finally {
      run.child.kill('SIGKILL');
      killGroups(groups);
    }
  });
});
