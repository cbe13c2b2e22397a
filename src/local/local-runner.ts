import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { StudySpec } from '../api/study.js';
import { StudyEngine, type StudyOutcome } from '../engine/study-engine.js';
import { primaryContainer, renderJobSpec, trialName } from '../engine/trial-template.js';
import { isActive } from '../engine/trial-view.js';
import { MetricCollector } from '../metrics/collector.js';
import type { LocalTrial } from './local-trial.js';
import { processForContainer } from './trial-command.js';
import { TrialProcess, type ProcessEnd } from './trial-process.js';

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
  /** Grace period between SIGTERM and SIGKILL when kubetune stops a trial. */
  graceMs?: number;
  countPrunedInBest?: boolean;
}

export interface LocalRunResult {
  outcome: StudyOutcome;
  interrupted: boolean;
  trials: LocalTrial[];
}

interface Running {
  trial: LocalTrial;
  process: TrialProcess;
  collector: MetricCollector;
  log: WriteStream;
  timer?: NodeJS.Timeout;
}

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

  constructor(private readonly opts: LocalRunOptions) {
    this.engine = new StudyEngine(opts.spec, { countPrunedInBest: opts.countPrunedInBest ?? false });
    mkdirSync(join(opts.outputDir, 'logs'), { recursive: true });
  }

  /** Stops every running trial and ends the study; results so far are kept. */
  interrupt(): void {
    this.interrupted = true;
    for (const r of this.running.values())
      r.process.stop({ reason: 'Interrupted', message: 'the study was interrupted' });
    this.wake?.();
  }

  async run(): Promise<LocalRunResult> {
    for (;;) {
      const outcome = this.engine.outcome(this.trials);
      if (outcome.done && this.running.size > 0) {
        for (const r of this.running.values()) {
          r.process.stop({
            reason: 'StudyFinished',
            message: `stopped because the study finished: ${outcome.message}`,
          });
        }
      }
      let started = 0;
      if (!this.interrupted && !outcome.done) {
        const planned = await this.engine.plan(this.trials);
        for (const p of planned) this.start(p.index, p.params);
        started = planned.length;
      }
      if (this.running.size === 0) {
        // Trials that failed before they could run (bad template) free their slots at once.
        if (started > 0) continue;
        return {
          outcome: this.engine.outcome(this.trials),
          interrupted: this.interrupted,
          trials: this.trials,
        };
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  best(): { trial: LocalTrial; value: number } | undefined {
    const best = this.engine.best(this.trials);
    return best && { trial: best.trial as LocalTrial, value: best.value };
  }

  formatted(params: LocalTrial['params']): Record<string, string> {
    return this.engine.space.format(params);
  }

  private start(index: number, params: LocalTrial['params']): void {
    const name = trialName(this.opts.name, index);
    const formattedParams = this.engine.space.format(params);
    const logFile = join(this.opts.outputDir, 'logs', `${name}.log`);
    const trial: LocalTrial = {
      name,
      index,
      params,
      formattedParams,
      state: 'Running',
      metrics: {},
      intermediate: [],
      startTime: new Date().toISOString(),
      logFile,
    };
    this.trials.push(trial);
    const { spec } = this.opts;
    const collector = new MetricCollector(spec);
    const log = createWriteStream(logFile);
    const tail: string[] = [];

    let processSpec;
    try {
      const jobSpec = renderJobSpec(spec.trialTemplate, {
        study: this.opts.name,
        name,
        index,
        params: formattedParams,
      });
      processSpec = processForContainer(primaryContainer(spec.trialTemplate, jobSpec), {
        study: this.opts.name,
        trial: name,
        index,
        cwd: this.opts.cwd,
      });
    } catch (err) {
      log.end();
      this.finish(trial, { state: 'Failed', reason: 'InvalidTemplate', message: (err as Error).message });
      return;
    }

    const process = new TrialProcess(
      processSpec,
      (line) => {
        log.write(`${line}\n`);
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
        const point = collector.feedLine(line);
        if (!point) return;
        trial.intermediate = collector.intermediate();
        const decision = this.engine.prune(trial, this.trials);
        if (decision.prune) {
          trial.prunedAtStep = decision.step;
          running.process.stop({ reason: 'Pruned', message: decision.reason });
        }
        this.opts.events?.progress?.(this.trials);
      },
      this.opts.graceMs,
    );
    const running: Running = { trial, process, collector, log };
    const timeout = spec.trialTimeoutSeconds;
    if (timeout !== undefined) {
      running.timer = setTimeout(
        () =>
          process.stop({ reason: 'Timeout', message: `ran longer than trialTimeoutSeconds (${timeout}s)` }),
        timeout * 1000,
      );
    }
    this.running.set(index, running);
    this.opts.events?.trialStarted?.(trial);
    this.opts.events?.progress?.(this.trials);
    void process.ended.then((end) => {
      clearTimeout(running.timer);
      this.running.delete(index);
      log.end();
      this.settle(running, end, tail);
      this.wake?.();
    });
  }

  private settle(r: Running, end: ProcessEnd, tail: string[]): void {
    const { trial, collector, process } = r;
    trial.intermediate = collector.intermediate();
    const lastOutput = tail.length ? `; last output: ${tail.join(' | ').slice(-400)}` : '';
    const cause = process.stopCause;
    if (cause?.reason === 'Pruned') {
      this.finish(trial, { state: 'Pruned', reason: 'Pruned', message: cause.message });
      return;
    }
    if (cause) {
      this.finish(trial, {
        state: cause.reason === 'StudyFinished' ? 'Pruned' : 'Failed',
        reason: cause.reason,
        message: cause.message,
      });
      return;
    }
    if (end.kind === 'spawn-failed') {
      this.finish(trial, { state: 'Failed', reason: 'CommandFailed', message: end.message });
      return;
    }
    if (end.kind === 'signalled') {
      this.finish(trial, {
        state: 'Failed',
        reason: 'Killed',
        message: `killed by ${end.signal}${lastOutput}`,
      });
      return;
    }
    if (end.code !== 0) {
      this.finish(trial, {
        state: 'Failed',
        reason: 'ExitCode',
        message: `exited with code ${end.code}${lastOutput}`,
      });
      return;
    }
    const result = collector.final();
    if (result.ok) {
      trial.metrics = result.metrics;
      this.finish(trial, { state: 'Succeeded', value: result.objective });
    } else if (result.reason === 'MetricsUnavailable') {
      this.finish(trial, { state: 'MetricsUnavailable', reason: result.reason, message: result.message });
    } else {
      this.finish(trial, { state: 'Failed', reason: result.reason, message: result.message });
    }
  }

  private finish(
    trial: LocalTrial,
    end: { state: LocalTrial['state']; value?: number; reason?: string; message?: string },
  ): void {
    trial.state = end.state;
    if (end.value !== undefined) trial.value = end.value;
    if (end.reason !== undefined) trial.reason = end.reason;
    if (end.message !== undefined) trial.message = end.message;
    trial.completionTime = new Date().toISOString();
    if (!isActive(trial)) this.opts.events?.trialFinished?.(trial);
    this.opts.events?.progress?.(this.trials);
  }
}
