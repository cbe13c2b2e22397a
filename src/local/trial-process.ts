import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcessSpec {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export type ProcessEnd =
  | { kind: 'exited'; code: number }
  | { kind: 'signalled'; signal: string }
  | { kind: 'spawn-failed'; message: string };

/** Why kubetune itself stopped the process, if it did. */
export type StopCause = { reason: string; message: string };

export interface ProcessTimings {
  /** Between SIGTERM and SIGKILL when the process group is stopped. */
  graceMs?: number;
  /** How long output is still read after the main process exits, before its group is stopped. */
  drainMs?: number;
}

const POLL_MS = 50;
/** Between SIGTERM and SIGKILL unless told otherwise. */
export const DEFAULT_GRACE_MS = 5000;

/** Sends `signal` to every process of group `pgid`; false when none is left. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a process of group `pgid` still runs. A killed background process stays in its group
 * as a zombie until whoever inherited it reaps it, which is late or never when that is a
 * container's init (or kubetune as PID 1); on Linux, /proc tells zombies apart.
 */
export function groupRuns(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  return entries.some((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return false; // gone meanwhile
    }
    // `pid (comm) state ppid pgrp ...`, where comm may hold spaces and parentheses.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(pgrp) === pgid && state !== 'Z';
  });
}

/** SIGTERM to the group, then SIGKILL if any of it still runs after `graceMs`. */
async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signalGroup(pgid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
    if (!groupRuns(pgid)) return;
  }
  signalGroup(pgid, 'SIGKILL');
}

/** Resolves once `done` does or `ms` have passed, whichever is first, leaving no timer behind. */
function atMost(done: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void done.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * One trial as a local process group. Output is delivered line by line from stdout and stderr
 * alike (trainers disagree on which one carries metrics). The trial is its main process: once
 * that exits, whatever it left in the background (`tensorboard &`) is stopped, so nothing can
 * hold the trial's slot, and `ended` resolves only when the whole group is gone.
 */
export class TrialProcess<Cause extends StopCause = StopCause> {
  private child: ChildProcess | undefined;
  private exited = false;
  private terminating: Promise<void> | undefined;
  private readonly graceMs: number;
  private readonly drainMs: number;
  /** Set when kubetune stopped the main process before it exited on its own. */
  stopCause: Cause | undefined;
  readonly ended: Promise<ProcessEnd>;

  constructor(spec: ProcessSpec, onLine: (line: string) => void, timings: ProcessTimings = {}) {
    this.graceMs = timings.graceMs ?? DEFAULT_GRACE_MS;
    this.drainMs = timings.drainMs ?? 1000;
    this.ended = this.run(spec, onLine);
  }

  /** The main process's pid, which is also its group's id; undefined when it could not start. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Stops the group: SIGTERM, then SIGKILL after the grace period. */
  stop(cause: Cause): void {
    if (!this.exited) this.stopCause ??= cause;
    void this.terminate();
  }

  /** SIGKILLs the group at once; synchronous, for when kubetune itself is about to exit. */
  kill(): void {
    if (this.child?.pid !== undefined) signalGroup(this.child.pid, 'SIGKILL');
  }

  private terminate(): Promise<void> {
    const pgid = this.child?.pid;
    if (pgid === undefined) return Promise.resolve();
    return (this.terminating ??= terminateGroup(pgid, this.graceMs));
  }

  private async run(spec: ProcessSpec, onLine: (line: string) => void): Promise<ProcessEnd> {
    let child: ChildProcess;
    try {
      // detached: its own process group, so a stop reaches grandchildren (shell wrappers, workers).
      child = spawn(spec.command, spec.args, {
        env: spec.env,
        cwd: spec.cwd,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      return { kind: 'spawn-failed', message: (err as Error).message };
    }
    this.child = child;
    let delivering = true;
    const outputClosed = readLines(child, (line) => {
      if (delivering) onLine(line);
    });
    const end = await new Promise<ProcessEnd>((resolve) => {
      const ended = (e: ProcessEnd) => {
        this.exited = true;
        resolve(e);
      };
      child.on('error', (err: NodeJS.ErrnoException) =>
        ended({
          kind: 'spawn-failed',
          message: err.code === 'ENOENT' ? `${spec.command}: command not found` : err.message,
        }),
      );
      child.on('exit', (code, signal) =>
        ended(signal ? { kind: 'signalled', signal } : { kind: 'exited', code: code ?? 1 }),
      );
    });
    if (end.kind !== 'spawn-failed') {
      // Output the main process wrote just before exiting may still be in the pipes; a
      // background process holding them open is not waited for beyond drainMs.
      await atMost(outputClosed, this.drainMs);
      await this.terminate();
    }
    delivering = false;
    child.stdout?.destroy();
    child.stderr?.destroy();
    return end;
  }
}

/** Feeds every line of the child's stdout and stderr to `onLine`; resolves when both close. */
function readLines(child: ChildProcess, onLine: (line: string) => void): Promise<void> {
  const streams = [child.stdout, child.stderr].filter((s) => s !== null);
  return Promise.all(
    streams.map(
      (input) =>
        new Promise<void>((resolve) => {
          const rl = createInterface({ input, crlfDelay: Infinity });
          rl.on('line', onLine);
          rl.on('close', resolve);
        }),
    ),
  ).then(() => undefined);
}
