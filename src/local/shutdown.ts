import { constants } from 'node:os';

/** What the guard drives: a LocalRunner. */
export interface GuardedRun {
  /** Stops the trials gracefully; the run then ends as usual. */
  interrupt(): void;
  /** Kills the trials' process groups at once, synchronously. */
  abort(): void;
}

export interface GuardHooks {
  /** The first signal, just before the trials are asked to stop. */
  onInterrupt?(signal: NodeJS.Signals): void;
  /** The second signal, after the trials were killed and just before kubetune exits. */
  onAbort?(signal: NodeJS.Signals): void;
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The shell's exit status for a process ended by `signal`. */
export const signalExitCode = (signal: NodeJS.Signals): number => 128 + constants.signals[signal];

/**
 * Ties the trials' process groups to this process. Trials run in groups of their own, so that
 * stopping one reaches its children, which also means nothing stops them when kubetune dies; so
 * every way out kills them first. The first SIGINT, SIGTERM or SIGHUP stops the trials
 * gracefully; a second one kills them at once and exits. Any other exit (an uncaught exception
 * or unhandled rejection ends in 'exit' too, as does process.exit) kills whatever still runs.
 * Returns a function that removes the handlers.
 */
export function guardTrials(run: GuardedRun, hooks: GuardHooks = {}): () => void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!signalled) {
      signalled = true;
      hooks.onInterrupt?.(signal);
      run.interrupt();
      return;
    }
    run.abort();
    hooks.onAbort?.(signal);
    process.exit(signalExitCode(signal));
  };
  const onExit = () => run.abort();
  for (const signal of SIGNALS) process.on(signal, onSignal);
  process.on('exit', onExit);
  return () => {
    for (const signal of SIGNALS) process.off(signal, onSignal);
    process.off('exit', onExit);
  };
}
