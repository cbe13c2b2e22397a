import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

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

/**
 * One trial as a local process group. Output is delivered line by line from stdout and stderr
 * alike (trainers disagree on which one carries metrics); stop() escalates SIGTERM to SIGKILL so
 * a trainer that ignores SIGTERM cannot hold a slot forever.
 */
export class TrialProcess {
  private child: ChildProcess | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  stopCause: StopCause | undefined;
  readonly ended: Promise<ProcessEnd>;

  constructor(
    spec: ProcessSpec,
    onLine: (line: string) => void,
    private readonly graceMs = 5000,
  ) {
    this.ended = new Promise<ProcessEnd>((resolve) => {
      let child: ChildProcess;
      try {
        // detached: its own process group, so stop() reaches grandchildren (shell wrappers, workers).
        child = spawn(spec.command, spec.args, {
          env: spec.env,
          cwd: spec.cwd,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      } catch (err) {
        resolve({ kind: 'spawn-failed', message: (err as Error).message });
        return;
      }
      this.child = child;
      let open = 2;
      let exit: ProcessEnd | undefined;
      const finish = () => {
        if (open === 0 && exit) {
          clearTimeout(this.killTimer);
          resolve(exit);
        }
      };
      for (const stream of [child.stdout, child.stderr]) {
        if (!stream) {
          open--;
          continue;
        }
        const rl = createInterface({ input: stream, crlfDelay: Infinity });
        rl.on('line', onLine);
        rl.on('close', () => {
          open--;
          finish();
        });
      }
      child.on('error', (err: NodeJS.ErrnoException) => {
        exit = {
          kind: 'spawn-failed',
          message: err.code === 'ENOENT' ? `${spec.command}: command not found` : err.message,
        };
        open = 0;
        finish();
      });
      child.on('exit', (code, signal) => {
        exit = signal ? { kind: 'signalled', signal } : { kind: 'exited', code: code ?? 1 };
        finish();
      });
    });
  }

  stop(cause: StopCause): void {
    if (this.stopCause) return;
    this.stopCause = cause;
    this.signal('SIGTERM');
    this.killTimer = setTimeout(() => this.signal('SIGKILL'), this.graceMs);
    this.killTimer.unref();
  }

  kill(): void {
    this.signal('SIGKILL');
  }

  private signal(sig: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, sig);
    } catch {
      // Already gone.
    }
  }
}
