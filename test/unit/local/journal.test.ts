// Reading a local run's journal back: what a crash can leave (a cut-off last line) is tolerated,
// anything else unreadable is an error naming the line; replay sorts trials into history and
// re-runs.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { StudySpec } from '../../../src/api/study.js';
import { Journal, readJournal } from '../../../src/local/journal.js';
import { LocalRunner } from '../../../src/local/local-runner.js';
import { replayJournal } from '../../../src/local/resume.js';
import { REPO_ROOT } from '../../support/run-cli.js';
import { specInput } from '../../support/specs.js';

const spec = StudySpec.parse(
  specInput({ parameters: [{ name: 'learning_rate', type: 'double', min: 0.001, max: 0.1 }] }),
);
const header = {
  event: 'study' as const,
  version: 1 as const,
  name: 's',
  cwd: '/',
  spec,
  countPrunedInBest: false,
};
const asked = (index: number) => ({ event: 'asked', index, params: { learning_rate: '0.01' } });
const started = (index: number, attempt: number, pgid: number) => ({
  event: 'started',
  index,
  attempt,
  pgid,
  leaderStart: '1',
  startTime: 't',
});
const finished = (index: number, state: string) => ({
  event: 'finished',
  index,
  state,
  metrics: {},
  intermediate: [],
  completionTime: 't',
  ...(state === 'Succeeded' ? { value: 0.5 } : {}),
});

function journalDir(lines: unknown[], tail = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'kt-journal-'));
  writeFileSync(join(dir, 'journal.jsonl'), lines.map((l) => `${JSON.stringify(l)}\n`).join('') + tail);
  return dir;
}

describe('journal replay', () => {
  it('keeps finished trials, re-runs interrupted and unfinished ones, and lists only their groups', () => {
    const dir = journalDir([
      header,
      asked(0),
      started(0, 1, 100),
      finished(0, 'Succeeded'),
      asked(1),
      started(1, 1, 101),
      finished(1, 'Interrupted'),
      asked(2),
      started(2, 1, 102),
      { event: 'report', index: 2, step: 1, value: 0.9 },
      asked(3),
    ]);
    const state = replayJournal(readJournal(dir));
    assert.deepEqual(
      state.finished.map((f) => [f.index, f.state, f.value, f.attempts]),
      [[0, 'Succeeded', 0.5, 1]],
    );
    assert.deepEqual(state.rerun, [
      { index: 1, params: { learning_rate: '0.01' }, attempts: 1 },
      { index: 2, params: { learning_rate: '0.01' }, attempts: 1 },
      { index: 3, params: { learning_rate: '0.01' }, attempts: 0 },
    ]);
    assert.deepEqual(state.leftovers, [{ pgid: 102, leaderStart: '1' }]);
  });

  it('drops a last line cut off by the crash, and names any other bad line', () => {
    const cut = journalDir([header, asked(0)], '{"event":"started","ind');
    assert.equal(readJournal(cut).length, 2);
    const bad = journalDir([header, { event: 'asked', index: -1, params: {} }, asked(0)]);
    assert.throws(() => readJournal(bad), /journal\.jsonl:2: not a journal entry/);
    const garbage = journalDir([header], 'oops\n');
    assert.throws(() => readJournal(garbage), /journal\.jsonl:2: not a JSON line/);
  });

  it('refuses parameters the study cannot have', () => {
    const dir = journalDir([header, { event: 'asked', index: 0, params: { learning_rate: 'fast' } }]);
    assert.throws(() => replayJournal(readJournal(dir)), /parameter learning_rate: "fast" is not a number/);
  });
});

describe('journal of a chatty trainer', () => {
  it('records at most maxIntermediateValues reports per attempt, and the thinned curve at the end', async () => {
    const FAKE = join(REPO_ROOT, 'test/fixtures/fake-trainer.mjs');
    const chatty = StudySpec.parse({
      algorithm: { name: 'random' },
      objective: { metric: 'loss', goal: 'minimize' },
      maxTrials: 1,
      metrics: { maxIntermediateValues: 10 },
      parameters: [{ name: 'x', type: 'double', min: 0, max: 1 }],
      trialTemplate: {
        spec: {
          template: {
            spec: {
              containers: [{ name: 't', command: ['node', FAKE, '--x', '${params.x}', '--epochs', '60'] }],
            },
          },
        },
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'kt-chatty-'));
    const journal = Journal.create(dir, { ...header, spec: chatty });
    const result = await new LocalRunner({
      name: 'c',
      spec: chatty,
      cwd: REPO_ROOT,
      outputDir: dir,
      journal,
    }).run();
    journal.close();
    assert.equal(result.trials[0]?.state, 'Succeeded');
    const entries = readJournal(dir);
    assert.equal(entries.filter((e) => e.event === 'report').length, 10);
    const end = entries.find((e) => e.event === 'finished');
    assert.ok(end?.event === 'finished' && end.intermediate.length <= 10 && end.intermediate.length > 0);
  });
});
