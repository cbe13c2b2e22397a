// `kubetune run --resume`: a local study killed with SIGKILL continues from its journal with no
// duplicated and no lost trial, and leaves no trial process of the killed run behind.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { Rng } from '../../../src/engine/rng.js';
import { REPO_ROOT, runCli } from '../../support/run-cli.js';
import { BOUND_MS, liveMembers, reaperOf, requireProcfs, waitUntil } from './support/process-groups.js';

const FAKE = join(REPO_ROOT, 'test/fixtures/fake-trainer.mjs');
const MAX_TRIALS = 8;

interface Entry {
  event: string;
  index?: number;
  params?: Record<string, string>;
  pgid?: number;
  killedGroups?: number[];
}

interface Results {
  outcome: { reason: string };
  trials: { index: number; state: string; formattedParams: Record<string, string>; value?: number }[];
}

function studyFile(dir: string, spec: Record<string, unknown>, args: string[]): string {
  const file = join(dir, 'study.yaml');
  writeFileSync(
    file,
    stringify({
      apiVersion: 'kubetune.io/v1alpha1',
      kind: 'Study',
      metadata: { name: 'resumable' },
      spec: {
        objective: { metric: 'loss', goal: 'minimize' },
        trialTemplate: {
          spec: { template: { spec: { containers: [{ name: 'train', command: ['node', FAKE], args }] } } },
        },
        ...spec,
      },
    }),
  );
  return file;
}

/**
 * TPE after 3 startup points, one trial at a time: each suggestion depends on the seed, the
 * index and the results before it, all of which a resume reproduces (a re-run trial gets its
 * recorded parameters, and the fake trainer's loss depends only on them). With parallelism > 1
 * the history a suggestion sees would depend on which trial finished first.
 */
const resumableSpec = {
  algorithm: { name: 'tpe', settings: { nStartup: 3 } },
  maxTrials: MAX_TRIALS,
  parallelism: 1,
  seed: 11,
  parameters: [
    { name: 'x', type: 'double', min: 0, max: 1 },
    { name: 'y', type: 'double', min: 0, max: 1 },
  ],
};
const trainerArgs = ['--x', '${params.x}', '--y', '${params.y}', '--epochs', '4', '--sleep-ms', '60'];

function journal(out: string): Entry[] {
  const path = join(out, 'journal.jsonl');
  if (!existsSync(path)) return [];
  // The run may be writing its next line: only complete lines count.
  return readFileSync(path, 'utf8')
    .split('\n')
    .slice(0, -1)
    .map((l) => JSON.parse(l) as Entry);
}

function results(out: string): Results {
  return JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
}

const startedGroups = (entries: Entry[]) =>
  entries.filter((e) => e.event === 'started' && e.pgid !== undefined).map((e) => e.pgid as number);

/** Starts `kubetune run ARGS` and SIGKILLs it once its journal has `lines` complete lines. */
async function killAt(args: string[], out: string, lines: number): Promise<void> {
  const run = runCli(args, { timeoutMs: BOUND_MS });
  let ended = false;
  void run.then(() => (ended = true));
  while (journal(out).length < lines) {
    if (ended) assert.fail(`the run ended before its journal reached ${lines} lines: ${(await run).stderr}`);
    await sleep(5);
  }
  run.child.kill('SIGKILL');
  const res = await run;
  assert.equal(res.code, null, 'killed by SIGKILL, not exited');
}

describe('kubetune run --resume', () => {
  it('survives 5 SIGKILLs at seeded points: exactly maxTrials trials, each index once, as without kills', async () => {
    requireProcfs();
    const dir = mkdtempSync(join(tmpdir(), 'kt-resume-'));
    const file = studyFile(dir, resumableSpec, trainerArgs);

    const reference = await runCli(['run', file, '--output', join(dir, 'ref')], { timeoutMs: BOUND_MS });
    assert.equal(reference.code, 0, reference.stderr);

    const out = join(dir, 'out');
    const rng = new Rng(16, 'resume-kills');
    // Each kill lands 1 to 8 journal lines after the previous run's last one: before a trial
    // is asked, between asked and started, amid its reports, or after it finished.
    let args = ['run', file, '--output', out];
    for (let kill = 0; kill < 5; kill++) {
      const before = journal(out);
      await killAt(args, out, before.length + 1 + rng.int(8));
      args = ['run', '--resume', out];
    }
    const last = await runCli(args, { timeoutMs: BOUND_MS });
    assert.equal(last.code, 0, last.stderr);

    const entries = journal(out);
    assert.equal(entries.filter((e) => e.event === 'resumed').length, 5);
    // Parameters are decided once per index: every index asked exactly once, 0..maxTrials-1.
    const asked = entries.filter((e) => e.event === 'asked').map((e) => e.index);
    assert.deepEqual(
      asked,
      Array.from({ length: MAX_TRIALS }, (_, i) => i),
    );

    const got = results(out);
    const want = results(join(dir, 'ref'));
    assert.equal(got.outcome.reason, 'MaxTrialsReached');
    assert.equal(got.trials.length, MAX_TRIALS);
    assert.ok(
      got.trials.every((t) => t.state === 'Succeeded'),
      JSON.stringify(got.trials.map((t) => t.state)),
    );
    const view = (r: Results) =>
      r.trials.map((t) => ({ index: t.index, params: t.formattedParams, value: t.value }));
    assert.deepEqual(view(got), view(want));

    for (const pgid of startedGroups(entries))
      assert.deepEqual(liveMembers(pgid), [], `group ${pgid} lives on`);
  });

  it('kills the trial processes a SIGKILLed run and its reaper left behind before anything runs again', async () => {
    requireProcfs();
    const dir = mkdtempSync(join(tmpdir(), 'kt-leftover-'));
    // A trainer that ignores SIGTERM and never ends; the timeout ends its re-run.
    const file = studyFile(
      dir,
      {
        algorithm: { name: 'random' },
        maxTrials: 1,
        maxFailedTrials: 1,
        trialTimeoutSeconds: 1,
        parameters: [{ name: 'x', type: 'double', min: 0, max: 1 }],
      },
      ['--x', '${params.x}', '--mode', 'hang'],
    );
    const out = join(dir, 'out');
    const run = runCli(['run', file, '--output', out], { timeoutMs: BOUND_MS });
    await waitUntil('the trial has started', () => startedGroups(journal(out)).length === 1);
    const [pgid] = startedGroups(journal(out)) as [number];
    // Without its reaper (killed too, or gone with a reboot) the run leaves its trial to --resume.
    const reaper = reaperOf(run.child.pid as number);
    assert.ok(reaper, 'kubetune run started a trial reaper');
    process.kill(reaper, 'SIGKILL');
    run.child.kill('SIGKILL');
    await run;
    assert.notDeepEqual(liveMembers(pgid), [], 'the killed run left its trial running');

    const resumed = await runCli(['run', '--resume', out], { timeoutMs: BOUND_MS });
    assert.match(resumed.stderr, /killed 1 process groups the earlier run left behind/);
    const entries = journal(out);
    const resumedAt = entries.findIndex((e) => e.event === 'resumed');
    assert.deepEqual(entries[resumedAt]?.killedGroups, [pgid]);
    // The re-run started only after the old group was gone, and with the same parameters.
    const restarted = entries.slice(resumedAt).find((e) => e.event === 'started');
    assert.ok(restarted, 'the trial ran again');
    assert.deepEqual(liveMembers(pgid), []);
    for (const g of startedGroups(entries)) assert.deepEqual(liveMembers(g), [], `group ${g} lives on`);
    assert.ok(existsSync(join(out, 'logs', 'resumable-0.attempt-1.log')), 'the first attempt keeps its log');
  });

  it('refuses to start a new run over a journal, and explains a missing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-journal-'));
    const file = studyFile(dir, { ...resumableSpec, maxTrials: 1 }, trainerArgs);
    const out = join(dir, 'out');
    assert.equal((await runCli(['run', file, '--output', out])).code, 0);
    const again = await runCli(['run', file, '--output', out]);
    assert.equal(again.code, 2);
    assert.match(
      again.stderr,
      /journal\.jsonl exists: that folder holds an earlier run; resume it with --resume/,
    );
    const missing = await runCli(['run', '--resume', join(dir, 'nothing')]);
    assert.match(
      missing.stderr,
      /journal\.jsonl does not exist: --resume needs the output folder of an earlier kubetune run/,
    );
    const mixed = await runCli(['run', file, '--resume', out]);
    assert.match(
      mixed.stderr,
      /--resume continues the run recorded in .* with its own study and settings; drop .*study\.yaml/,
    );
  });
});
