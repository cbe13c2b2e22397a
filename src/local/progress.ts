import type { LocalTrial } from './local-trial.js';
import type { RunnerEvents } from './local-runner.js';

function paramsText(t: LocalTrial): string {
  return Object.entries(t.formattedParams)
    .map(([k, v]) => `${k}=${/^-?\d+\.\d{5,}/.test(v) ? Number(v).toPrecision(4) : v}`)
    .join(' ');
}

function devicesText(t: LocalTrial): string {
  if (t.devices === undefined) return '';
  return t.devices.length ? ` on GPU ${t.devices.join(',')}` : ' without a GPU';
}

function summary(trials: readonly LocalTrial[], maxTrials: number, result: () => string): string {
  const count = (s: string) => trials.filter((t) => t.state === s).length;
  const failed = count('Failed') + count('MetricsUnavailable');
  const interrupted = count('Interrupted');
  const so = result();
  return (
    `trials ${trials.length - count('Running')}/${maxTrials} done, ${count('Running')} running, ` +
    `${failed} failed, ${count('Pruned')} pruned` +
    (interrupted ? `, ${interrupted} interrupted` : '') +
    (so ? ` | ${so}` : '')
  );
}

/**
 * Progress on the terminal. On a TTY one status line is redrawn in place under the event
 * lines; elsewhere (CI logs, pipes) only plain event lines are written.
 */
export function progressReporter(
  out: NodeJS.WriteStream,
  /** `result` says what the study found so far (the engine's best trial or front), or ''. */
  opts: { maxTrials: number; metric: string; result: () => string },
): Partial<RunnerEvents> & { close(): void } {
  const tty = out.isTTY === true;
  let status = '';
  let last: readonly LocalTrial[] = [];
  const redraw = () => {
    if (!tty) return;
    const line = summary(last, opts.maxTrials, opts.result).slice(0, Math.max(20, (out.columns ?? 100) - 1));
    out.write(`\r\x1b[2K${line}`);
    status = line;
  };
  const print = (text: string) => {
    if (tty && status) out.write('\r\x1b[2K');
    out.write(`${text}\n`);
    redraw();
  };
  return {
    trialStarted: (t) => print(`▶ ${t.name} started${devicesText(t)}: ${paramsText(t)}`),
    trialFinished: (t) => {
      const value = t.value !== undefined ? ` ${opts.metric}=${t.value}` : '';
      const why =
        t.state === 'Succeeded' ? '' : ` (${t.reason ?? t.state}${t.message ? `: ${t.message}` : ''})`;
      const step = t.prunedAtStep !== undefined ? ` at step ${t.prunedAtStep}` : '';
      print(`${t.state === 'Succeeded' ? '✔' : '✘'} ${t.name} ${t.state}${step}${value}${why}`);
    },
    progress: (trials) => {
      last = trials;
      redraw();
    },
    close: () => {
      if (tty && status) out.write('\r\x1b[2K');
    },
  };
}
