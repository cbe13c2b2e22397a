import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { durationSeconds, type StudySpec } from '../api/study.js';
import type { TrialState } from '../api/trial.js';
import { StudyEngine, type StudyOutcome } from '../engine/study-engine.js';
import { primaryContainer, renderJobSpec, trialName } from '../engine/trial-template.js';
import { isActive } from '../engine/trial-view.js';
import { MetricCollector } from '../metrics/collector.js';
import type { LocalTrial } from './local-trial.js';
import { processForContainer } from './trial-command.js';
import { TrialProcess, type ProcessEnd, type ProcessSpec, type StopCause } from './trial-process.js';

export interface RunnerEvents {
  trialStarted(trial: LocalTrial): void;
  trialFinished(trial: LocalTrial): void;
  progress(trials: readonly LocalTrial[]): void;
}

export interface LocalRunOptions {
  name: string;
  spec: StudySpec;
  /** Working directory of trial processes. */
  cwd: string;
  /** Trial logs go under `<outputDir>/logs`. */
  outputDir: string;
  events?: Partial<RunnerEvents>;
  /** Grace period between SIGTERM and SIGKILL when kubetune stops a trial's process group. */
  graceMs?: number;
  /** How long a trial's output is still read after its main process exits (default 1 s). */
  drainMs?: number;
  countPrunedInBest?: boolean;
}

export interface LocalRunResult {
  outcome: StudyOutcome;
  interrupted: boolean;
  trials: LocalTrial[];
}

interface Running {
  trial: LocalTrial;
  process: TrialProcess<RunnerStop>;
  collector: MetricCollector;
  log: WriteStream;
  /** The last lines of output, quoted when the trial fails. */
  tail: string[];
  timer?: NodeJS.Timeout;
}

/** How a trial ended, as recorded on it. */
interface TrialEnd {
  state: TrialState;
  value?: number;
  metrics?: Record<string, number>;
  reason?: string;
  message?: string;
}

type StopReason = 'Pruned' | 'StudyFinished' | 'BudgetExhausted' | 'Interrupted' | 'Timeout';
type RunnerStop = StopCause & { reason: StopReason };

/** The state of a trial that kubetune stopped while its main process still ran. */
const STOPPED_AS: Record<StopReason, TrialState> = {
  Pruned: 'Pruned',
  StudyFinished: 'Pruned',
  BudgetExhausted: 'Pruned',
  Interrupted: 'Interrupted',
  Timeout: 'Failed',
};

const TAIL_LINES = 5;

/**
 * Runs a study's trials as local processes, at most `parallelism` at once, with the same engine
 * the operator uses. A slot is refilled as soon as a trial ends.
 */
export class LocalRunner {
  private readonly engine: StudyEngine;
  private readonly trials: LocalTrial[] = [];
  private readonly running = new Map<number, Running>();
  private interrupted = false;
  private wake: (() => void) | undefined;
  /** When run() began, for budget.wallClock; fixed once the run is over so its outcome stays put. */
  private startedAt = performance.now();
  private endedAt: number | undefined;

  constructor(private readonly opts: LocalRunOptions) {
    this.engine = new StudyEngine(opts.spec, { countPrunedInBest: opts.countPrunedInBest ?? false });
    mkdirSync(join(opts.outputDir, 'logs'), { recursive: true });
  }

  /** Stops every running trial gracefully and ends the study; results so far are kept. */
  interrupt(): void {
    this.interrupted = true;
    this.stopAll({ reason: 'Interrupted', message: 'the study was interrupted' });
    this.wake?.();
  }

  /**
   * Kills every running trial's process group at once and records those trials as interrupted.
   * Synchronous, so it is safe in a signal or 'exit' handler, when kubetune is about to exit.
   */
  abort(): void {
    this.interrupted = true;
    for (const r of this.running.values()) {
      r.process.kill();
      clearTimeout(r.timer);
      r.log.end();
      this.finish(r.trial, {
        state: 'Interrupted',
        reason: 'Interrupted',
        message: 'killed at once: kubetune exited before the trial ended',
      });
    }
    this.running.clear();
  }

  async run(): Promise<LocalRunResult> {
    this.startedAt = performance.now();
    const wallClock = this.opts.spec.budget?.wallClock;
    const seconds = wallClock === undefined ? undefined : durationSeconds(wallClock);
    // Wakes the loop when the wall clock runs out, even while every trial is still busy.
    const timer = seconds === undefined ? undefined : setTimeout(() => this.wake?.(), seconds * 1000);
    try {
      await this.loop();
    } catch (err) {
      // Nothing else would stop the trials' process groups once this error leaves kubetune.
      this.abort();
      throw err;
    } finally {
      clearTimeout(timer);
      this.endedAt = performance.now();
    }
    return this.result();
  }

  private elapsedSeconds(): number {
    return ((this.endedAt ?? performance.now()) - this.startedAt) / 1000;
  }

  /** The study as it stands: its outcome so far and every trial started. */
  result(): LocalRunResult {
    return {
      outcome: this.engine.outcome(this.trials, this.elapsedSeconds()),
      interrupted: this.interrupted,
      trials: this.trials,
    };
  }

  best(): { trial: LocalTrial; value: number } | undefined {
    const best = this.engine.best(this.trials);
    return best && { trial: best.trial as LocalTrial, value: best.value };
  }

  /** The feasible non-dominated trials of a study with several objectives, by index. */
  paretoFront(): { trial: LocalTrial; values: number[] }[] {
    return this.engine
      .paretoFront(this.trials)
      .map((p) => ({ trial: p.trial as LocalTrial, values: p.values }));
  }

  formatted(params: LocalTrial['params']): Record<string, string> {
    return this.engine.space.format(params);
  }

  private async loop(): Promise<void> {
    for (;;) {
      const outcome = this.engine.outcome(this.trials, this.elapsedSeconds());
      if (outcome.done) {
        this.stopAll({
          reason: outcome.reason === 'BudgetExhausted' ? 'BudgetExhausted' : 'StudyFinished',
          message: `stopped because the study finished: ${outcome.message}`,
        });
      }
      let started = 0;
      if (!this.interrupted && !outcome.done) {
        const planned = await this.engine.plan(this.trials);
        // An interrupt may have come while the sampler was busy; it stopped only running trials.
        if (!this.interrupted) {
          for (const p of planned) this.start(p.index, p.params);
          started = planned.length;
        }
      }
      if (this.running.size === 0) {
        // Trials that failed before they could run (bad template) free their slots at once.
        if (started > 0) continue;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private stopAll(cause: RunnerStop): void {
    for (const r of this.running.values()) r.process.stop(cause);
  }

  private start(index: number, params: LocalTrial['params']): void {
    const name = trialName(this.opts.name, index);
    const trial: LocalTrial = {
      name,
      index,
      params,
      formattedParams: this.engine.space.format(params),
      state: 'Running',
      metrics: {},
      intermediate: [],
      startTime: new Date().toISOString(),
      logFile: join(this.opts.outputDir, 'logs', `${name}.log`),
    };
    this.trials.push(trial);
    const log = createWriteStream(trial.logFile);
    let spec: ProcessSpec;
    try {
      spec = this.processSpec(trial);
    } catch (err) {
      log.end();
      this.finish(trial, { state: 'Failed', reason: 'InvalidTemplate', message: (err as Error).message });
      return;
    }
    const running = this.launch(trial, spec, log);
    this.running.set(index, running);
    this.opts.events?.trialStarted?.(trial);
    this.opts.events?.progress?.(this.trials);
    void running.process.ended.then((end) => {
      // abort() has already recorded the trial when it is no longer among the running ones.
      if (!this.running.delete(index)) return;
      clearTimeout(running.timer);
      log.end();
      trial.intermediate = running.collector.intermediate();
      this.finish(trial, trialEnd(running, end));
      this.wake?.();
    });
  }

  /** The command the trial template's primary container would run, with the trial's values. */
  private processSpec(trial: LocalTrial): ProcessSpec {
    const { spec, name: study, cwd } = this.opts;
    const jobSpec = renderJobSpec(spec.trialTemplate, {
      study,
      name: trial.name,
      index: trial.index,
      params: trial.formattedParams,
    });
    return processForContainer(primaryContainer(spec.trialTemplate, jobSpec), {
      study,
      trial: trial.name,
      index: trial.index,
      cwd,
    });
  }

  private launch(trial: LocalTrial, spec: ProcessSpec, log: WriteStream): Running {
    const { graceMs, drainMs, spec: study } = this.opts;
    const trialProcess = new TrialProcess<RunnerStop>(spec, (line) => this.onLine(running, line), {
      graceMs,
      drainMs,
    });
    const running: Running = {
      trial,
      process: trialProcess,
      collector: new MetricCollector(study),
      log,
      tail: [],
    };
    const timeout = study.trialTimeoutSeconds;
    if (timeout !== undefined) {
      const message = `ran longer than trialTimeoutSeconds (${timeout}s)`;
      running.timer = setTimeout(() => trialProcess.stop({ reason: 'Timeout', message }), timeout * 1000);
    }
    return running;
  }

  private onLine(r: Running, line: string): void {
    r.log.write(`${line}\n`);
    r.tail.push(line);
    if (r.tail.length > TAIL_LINES) r.tail.shift();
    if (!r.collector.feedLine(line)) return;
    r.trial.intermediate = r.collector.intermediate();
    const decision = this.engine.prune(r.trial, this.trials);
    if (decision.prune) {
      r.trial.prunedAtStep = decision.step;
      r.process.stop({ reason: 'Pruned', message: decision.reason });
    }
    this.opts.events?.progress?.(this.trials);
  }

  private finish(trial: LocalTrial, end: TrialEnd): void {
    trial.state = end.state;
    if (end.value !== undefined) trial.value = end.value;
    if (end.metrics !== undefined) trial.metrics = end.metrics;
    if (end.reason !== undefined) trial.reason = end.reason;
    if (end.message !== undefined) trial.message = end.message;
    trial.completionTime = new Date().toISOString();
    if (!isActive(trial)) this.opts.events?.trialFinished?.(trial);
    this.opts.events?.progress?.(this.trials);
  }
}

/** What a trial's end means: why kubetune stopped it, if it did, else how its process ended. */
function trialEnd(r: Running, end: ProcessEnd): TrialEnd {
  const cause = r.process.stopCause;
  if (cause) return { state: STOPPED_AS[cause.reason], reason: cause.reason, message: cause.message };
  const lastOutput = r.tail.length ? `; last output: ${r.tail.join(' | ').slice(-400)}` : '';
  if (end.kind === 'spawn-failed') return { state: 'Failed', reason: 'CommandFailed', message: end.message };
  if (end.kind === 'signalled')
    return { state: 'Failed', reason: 'Killed', message: `killed by ${end.signal}${lastOutput}` };
  if (end.code !== 0)
    return { state: 'Failed', reason: 'ExitCode', message: `exited with code ${end.code}${lastOutput}` };
  const result = r.collector.final();
  if (result.ok) return { state: 'Succeeded', value: result.objective, metrics: result.metrics };
  const state = result.reason === 'MetricsUnavailable' ? 'MetricsUnavailable' : 'Failed';
  return { state, reason: result.reason, message: result.message };
}
