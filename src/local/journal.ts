import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { StudySpec } from '../api/study.js';
import { TRIAL_STATES } from '../api/trial.js';
import { PriorRecord } from './priors.js';

/** The journal of a local run, in its output folder. */
export const JOURNAL_FILE = 'journal.jsonl';

const Index = z.number().int().min(0);
const Params = z.record(z.string(), z.string());

/**
 * One decision of a local run. `asked` is written before the trial's process starts, so a crash
 * at any point leaves the parameters of every trial that might have run; `started` records the
 * process group (and its leader's start time, to tell a reused pid apart) so that a resume can
 * kill what the crashed run left behind.
 */
export const JournalEntry = z.discriminatedUnion('event', [
  z.strictObject({
    event: z.literal('study'),
    version: z.literal(1),
    name: z.string(),
    cwd: z.string(),
    spec: StudySpec,
    countPrunedInBest: z.boolean(),
    /** Warm-start results the sampler saw, kept so a resume proposes the same trials. */
    priors: z.array(PriorRecord).default([]),
  }),
  z.strictObject({ event: z.literal('asked'), index: Index, params: Params }),
  z.strictObject({
    event: z.literal('started'),
    index: Index,
    attempt: z.number().int().min(1),
    pgid: z.number().int().positive().optional(),
    leaderStart: z.string().optional(),
    startTime: z.string(),
  }),
  z.strictObject({ event: z.literal('report'), index: Index, step: z.number(), value: z.number() }),
  z.strictObject({
    event: z.literal('finished'),
    index: Index,
    state: z.enum(TRIAL_STATES),
    value: z.number().optional(),
    metrics: z.record(z.string(), z.number()),
    intermediate: z.array(z.strictObject({ step: z.number(), value: z.number() })),
    reason: z.string().optional(),
    message: z.string().optional(),
    prunedAtStep: z.number().optional(),
    completionTime: z.string(),
  }),
  z.strictObject({ event: z.literal('resumed'), killedGroups: z.array(z.number().int()) }),
]);
export type JournalEntry = z.output<typeof JournalEntry>;
export type JournalInput = z.input<typeof JournalEntry>;

/**
 * Append-only JSON lines, fsynced after every entry: once `append` returns, the decision
 * survives a SIGKILL or a power cut. Non-finite numbers never reach it (JSON has none), so
 * callers drop them first.
 */
export class Journal {
  private constructor(private fd: number | undefined) {}

  /** Starts a new journal; refuses a folder that already has one (that run would be lost). */
  static create(dir: string, header: Extract<JournalInput, { event: 'study' }>): Journal {
    const path = join(dir, JOURNAL_FILE);
    if (existsSync(path))
      throw new Error(
        `${path} exists: that folder holds an earlier run; resume it with --resume ${dir}, or choose another --output`,
      );
    const journal = new Journal(openSync(path, 'wx'));
    journal.append(header);
    return journal;
  }

  /** Opens an existing journal to append to, after `readJournal` replayed it. */
  static reopen(dir: string): Journal {
    return new Journal(openSync(join(dir, JOURNAL_FILE), 'a'));
  }

  append(entry: JournalInput): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * The entries of a journal. A last line without its newline was cut off by the crash being
 * recovered from, and is dropped; any other unreadable line is an error naming it.
 */
export function readJournal(dir: string): JournalEntry[] {
  const path = join(dir, JOURNAL_FILE);
  if (!existsSync(path))
    throw new Error(`${path} does not exist: --resume needs the output folder of an earlier kubetune run`);
  const text = readFileSync(path, 'utf8');
  // After the last newline: nothing, or the line the crash cut short.
  const complete = text.split('\n').slice(0, -1);
  const entries = complete.map((line, i) => {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new Error(`${path}:${i + 1}: not a JSON line`);
    }
    const parsed = JournalEntry.safeParse(json);
    if (!parsed.success)
      throw new Error(
        `${path}:${i + 1}: not a journal entry (${parsed.error.issues[0]?.message ?? 'invalid'})`,
      );
    return parsed.data;
  });
  if (entries[0]?.event !== 'study') throw new Error(`${path}:1: the journal must start with the study`);
  return entries;
}
