import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { REPO_ROOT, runCli } from '../../support/run-cli.js';
import {
  groupRecordingScript,
  killGroups,
  liveMembers,
  recordedGroups,
  requireFreshBuild,
  requireProcfs,
  runBuiltCli,
  shellStudy,
  waitUntil,
} from './support/process-groups.js';

interface Results {
  interrupted: boolean;
  trials: { index: number; state: string; reason?: string; value?: number; params: object }[];
}

const readResults = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as Results;

const exitCodeOf = (signal: NodeJS.Signals) => 128 + constants.signals[signal];

/** Waits until `count` trials have recorded their groups and each group holds its three processes. */
async function groupsStarted(dir: string, count: number): Promise<number[]> {
  let groups: number[] = [];
  await waitUntil(`${count} trials run, each as a shell with two sleeps`, () => {
    groups = recordedGroups(dir);
    return groups.length === count && groups.every((g) => liveMembers(g).length === 3);
  });
  return groups;
}

const allGone = (groups: readonly number[]) =>
  waitUntil(`no process of the trials' groups ${groups.join(', ')} is left`, () =>
    groups.every((g) => liveMembers(g).length === 0),
  );

describe('kubetune run leaves no trial processes behind', () => {
  before(requireProcfs);

  describe('on signals (bin/kubetune.js)', () => {
    before(requireFreshBuild);

    for (const [first, second] of [
      ['SIGINT', 'SIGINT'],
      ['SIGHUP', 'SIGTERM'],
    ] as const) {
      it(`${first} then ${second}: the second one kills every trial's group at once, then exits`, async () => {
        const dir = mkdtempSync(join(tmpdir(), 'kt-sig2-'));
        // The trials ignore SIGTERM, so after the first signal only a SIGKILL ends them.
        const file = shellStudy(
          dir,
          { maxTrials: 4, parallelism: 2 },
          groupRecordingScript(dir, { ignoreTerm: true }),
        );
        const run = runBuiltCli(['run', file, '--output', join(dir, 'out')]);
        let groups: number[] = [];
        try {
          groups = await groupsStarted(dir, 2);
          run.child.kill(first);
          await waitUntil('kubetune acknowledged the first signal', () =>
            run.stderr().includes('stopping running trials'),
          );
          run.child.kill(second);
          const res = await run.done;
          assert.equal(res.code, exitCodeOf(second), res.stderr);
          await allGone(groups);
          const results = readResults(dir);
          assert.equal(results.interrupted, true);
          assert.deepEqual(
            results.trials.map((t) => [t.index, t.state]),
            [
              [0, 'Interrupted'],
              [1, 'Interrupted'],
            ],
          );
        } finally {
          run.child.kill('SIGKILL');
          killGroups(groups);
        }
      });
    }

    it('SIGHUP stops the trials gracefully and records them as interrupted', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kt-hup-'));
      const file = shellStudy(
        dir,
        { maxTrials: 4, parallelism: 2 },
        groupRecordingScript(dir, { ignoreTerm: false }),
      );
      const run = runBuiltCli(['run', file, '--output', join(dir, 'out')]);
      let groups: number[] = [];
      try {
        groups = await groupsStarted(dir, 2);
        run.child.kill('SIGHUP');
        const res = await run.done;
        assert.equal(res.code, exitCodeOf('SIGHUP'), res.stderr);
        await allGone(groups);
        assert.match(res.stdout, /^study interrupted: /m);
        assert.ok(readResults(dir).trials.every((t) => t.state === 'Interrupted'));
      } finally {
        run.child.kill('SIGKILL');
        killGroups(groups);
      }
    });
  });

  for (const how of ['throw', 'reject'] as const) {
    it(`kills every trial's group when the run crashes (${how === 'throw' ? 'uncaught exception' : 'unhandled rejection'})`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kt-crash-'));
      const file = shellStudy(
        dir,
        { maxTrials: 4, parallelism: 2 },
        groupRecordingScript(dir, { ignoreTerm: true }),
      );
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(REPO_ROOT, 'test/unit/local/fixtures/crash-during-run.ts'), file, how],
        { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      let groups: number[] = [];
      try {
        groups = await groupsStarted(dir, 2);
        child.kill('SIGUSR2');
        assert.equal(await exited, 1, stderr);
        assert.match(stderr, /crash-during-run: deliberate/);
        await allGone(groups);
      } finally {
        child.kill('SIGKILL');
        killGroups(groups);
      }
    });
  }

  it('ends a trial when its main process exits and stops what it left in the background', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-bg-'));
    // One background sleep keeps the output pipes open, the other does not; both outlive the
    // trial's main process unless kubetune stops them.
    const script = [
      'if [ "$1" = holds-output ]; then sleep 300 & else sleep 300 >/dev/null 2>&1 & fi',
      `echo $$ > "${dir}/pgid-$KUBETUNE_TRIAL_INDEX"`,
      'echo loss=0.5',
    ].join('\n');
    const file = shellStudy(dir, { algorithm: { name: 'grid' }, maxTrials: 2, parallelism: 1 }, script, [
      { name: 'mode', type: 'categorical', values: ['holds-output', 'own-output'] },
    ]);
    // Before the fix the first trial never ended: runCli's own bound fails the test then.
    const run = runCli(['run', file, '--output', join(dir, 'out')]);
    try {
      const res = await run;
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(
        readResults(dir).trials.map((t) => [t.state, t.value]),
        [
          ['Succeeded', 0.5],
          ['Succeeded', 0.5],
        ],
      );
      const groups = recordedGroups(dir);
      assert.equal(groups.length, 2);
      await allGone(groups);
    } finally {
      killGroups(recordedGroups(dir));
    }
  });
});
