import { existsSync, readFileSync, renameSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StudySpec } from '../api/study.js';
import { TERMINAL_TRIAL_STATES } from '../api/trial.js';
import { SearchSpace } from '../engine/search-space.js';
import type { JournalEntry } from './journal.js';
import type { PriorRecord } from './priors.js';
import { groupRuns } from './trial-process.js';

/** A trial the journal shows as finished: it is history and is not run again. */
export type FinishedEntry = Extract<JournalEntry, { event: 'finished' }> & {
  params: Record<string, string>;
  startTime: string;
  attempts: number;
};

/** A trial that was asked for but did not finish (or was interrupted): it runs again as it was. */
export interface RerunEntry {
  index: number;
  params: Record<string, string>;
  /** Attempts already started; the next one is attempts + 1. */
  attempts: number;
}

export interface ResumeState {
  name: string;
  cwd: string;
  spec: StudySpec;
  countPrunedInBest: boolean;
  priors: PriorRecord[];
  finished: FinishedEntry[];
  rerun: RerunEntry[];
  /** Process groups of attempts that never finished: the crashed run may have left them running. */
  leftovers: { pgid: number; leaderStart?: string }[];
}

interface TrialRecord {
  params?: Record<string, string>;
  attempts: number;
  startTime?: string;
  finished?: Extract<JournalEntry, { event: 'finished' }>;
  group?: { pgid: number; leaderStart?: string };
}

/**
 * What a journal says about each trial. An Interrupted trial did not finish its work, so it is
 * run again with its index and parameters, as is one that was asked for and never finished.
 */
export function replayJournal(entries: readonly JournalEntry[]): ResumeState {
  const header = entries[0];
  if (header?.event !== 'study') throw new Error('the journal must start with the study');
  const trials = new Map<number, TrialRecord>();
  const record = (index: number) => trials.get(index) ?? trials.set(index, { attempts: 0 }).get(index)!;
  for (const e of entries) {
    if (e.event === 'asked') record(e.index).params = e.params;
    else if (e.event === 'started') {
      const t = record(e.index);
      t.attempts = Math.max(t.attempts, e.attempt);
      t.startTime = e.startTime;
      t.finished = undefined;
      t.group = e.pgid === undefined ? undefined : { pgid: e.pgid, leaderStart: e.leaderStart };
    } else if (e.event === 'finished') record(e.index).finished = e;
  }
  const space = new SearchSpace(header.spec.parameters);
  const state: ResumeState = { ...header, finished: [], rerun: [], leftovers: [] };
  for (const [index, t] of [...trials].sort((a, b) => a[0] - b[0])) {
    if (!t.params)
      throw new Error(`the journal has trial ${index} without its parameters (no "asked" entry)`);
    // Parameters come back through the search space's own checks, as Trial objects do.
    space.parse(t.params);
    const done =
      t.finished && TERMINAL_TRIAL_STATES.has(t.finished.state) && t.finished.state !== 'Interrupted';
    if (done && t.finished) {
      state.finished.push({
        ...t.finished,
        params: t.params,
        startTime: t.startTime ?? '',
        attempts: t.attempts,
      });
      continue;
    }
    state.rerun.push({ index, params: t.params, attempts: t.attempts });
    if (!t.finished && t.group) state.leftovers.push(t.group);
  }
  return state;
}

/** Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * SIGKILLs the process groups a crashed run left behind and waits until they are gone, so a
 * re-run trial never overlaps its previous attempt. A group whose leader pid now belongs to a
 * process that started at another time is someone else's and is left alone (while any member of
 * a group lives, its id cannot be reused). Returns the groups that were signalled.
 */
export async function killLeftovers(
  groups: readonly { pgid: number; leaderStart?: string }[],
  boundMs = 30_000,
): Promise<number[]> {
  const killed: number[] = [];
  for (const { pgid, leaderStart } of groups) {
    const start = processStart(pgid);
    if (start !== undefined && leaderStart !== undefined && start !== leaderStart) continue;
    try {
      process.kill(-pgid, 'SIGKILL');
      killed.push(pgid);
    } catch {
      // ESRCH: the group is already gone.
    }
  }
  const deadline = Date.now() + boundMs;
  while (killed.some(groupRuns)) {
    if (Date.now() > deadline)
      throw new Error(
        `process groups ${killed.filter(groupRuns).join(', ')} survived SIGKILL for ${boundMs} ms`,
      );
    await sleep(20);
  }
  return killed;
}

/** Keeps the log of an earlier attempt as `<name>.attempt-<k>.log`, so the re-run starts a fresh log. */
export function keepEarlierLog(logFile: string, attempt: number): void {
  if (existsSync(logFile)) renameSync(logFile, logFile.replace(/\.log$/, `.attempt-${attempt}.log`));
}
