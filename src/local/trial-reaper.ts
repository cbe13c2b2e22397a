import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

/** What the runner tells about the process groups of its trials. */
export interface TrialGroups {
  /** A trial's process group started: it must not outlive kubetune. */
  started(pgid: number): void;
  /** The group is gone (or was SIGKILLed): its id may be reused by someone else. */
  ended(pgid: number): void;
}

// The same path from src/local (under tsx) and dist/local (built).
const REAPER = fileURLToPath(new URL('../../bin/trial-reaper.js', import.meta.url));

/**
 * The process that stops this run's trials once this process is gone, however it went (see
 * bin/trial-reaper.js). It lives in a session of its own, so a Ctrl-C meant for kubetune (which
 * stops the trials itself) does not reach it, and it never keeps kubetune running.
 */
export class TrialReaper implements TrialGroups {
  private constructor(private readonly child: ChildProcess) {}

  static start(graceMs: number): TrialReaper {
    const child = spawn(process.execPath, [REAPER, String(graceMs)], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.unref();
    (child.stdin as Socket).unref();
    // A reaper that could not start leaves the journal's groups for --resume to kill.
    child.on('error', () => undefined);
    child.stdin?.on('error', () => undefined);
    return new TrialReaper(child);
  }

  started(pgid: number): void {
    this.child.stdin?.write(`+${pgid}\n`);
  }

  ended(pgid: number): void {
    this.child.stdin?.write(`-${pgid}\n`);
  }
}
