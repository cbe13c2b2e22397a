import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { durationSeconds, type StudySpec } from '../api/study.js';
import type { TrialState } from '../api/trial.js';
import { maxGpuRequest, studyGpuResources, trialGpuRequest } from '../engine/gpu-request.js';
import { StudyEngine, type PriorTrial, type StudyOutcome } from '../engine/study-engine.js';
import { primaryContainer, renderWorkload, trialName } from '../engine/trial-template.js';
import { isActive } from '../engine/trial-view.js';
import { MetricCollector } from '../metrics/collector.js';
import { GpuAllocator } from './gpu-allocator.js';
import { gpuVendor, visibleDevicesEnv, type GpuDevices, type GpuVendor } from './gpu-devices.js';
import type { Journal } from './journal.js';
import type { LocalTrial } from './local-trial.js';
import { keepEarlierLog, processStart, type ResumeState } from './resume.js';
import { processForContainer } from './trial-command.js';
import { TrialProcess, type ProcessEnd, type ProcessSpec, type StopCause } from './trial-process.js';
import type { TrialGroups } from './trial-reaper.js';

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
  /** Where every decision is recorded before it takes effect, for `kubetune run --resume`. */
  journal?: Journal;
  /** Told of every trial's process group, so that they can be stopped if this process dies. */
  groups?: TrialGroups;
  /** Finished trials of earlier runs that seed the sampler (warm start). */
  priors?: readonly PriorTrial[];
  /** The trials of the run being resumed: finished ones are history, the others run again. */
  resume?: Pick<ResumeState, 'finished' | 'rerun'>;
  /**
   * The GPUs trials that ask for some (`nvidia.com/gpu`, `amd.com/gpu`, …) are given, each shared by
   * at most `trialsPerGpu` trials (default 1). `none` runs them without a GPU. Without
   * this option the runner leaves the devices trials see alone.
   */
  gpus?: GpuDevices & { trialsPerGpu?: number };
}

/** How the runner shares GPUs among trials that ask for them. */
interface GpuPlan {
  /** The most GPUs one trial can ask for (counts may be parameters): what starting one plans for. */
  maxPerTrial: number;
  vendor: GpuVendor;
  allocator: GpuAllocator;
  source: string;
  none: boolean;
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
  /** GPU shares the trial holds until its process group is gone. */
  devices: string[];
  /** The last lines of output, quoted when the trial fails. */
  tail: string[];
  /** Reports written to the journal; capped like the intermediate values a trial keeps. */
  journalled: number;
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
  /** Trials of a resumed run waiting to run again, lowest index first; Pending in `trials`. */
  private readonly reruns: LocalTrial[] = [];
  /** Attempts started so far per trial index (a resumed trial's earlier ones included). */
  private readonly attempts = new Map<number, number>();
  private interrupted = false;
  private wake: (() => void) | undefined;
  /** When run() began, for budget.wallClock; fixed once the run is over so its outcome stays put. */
  private startedAt = performance.now();
  private endedAt: number | undefined;
  private readonly gpus: GpuPlan | undefined;

  constructor(private readonly opts: LocalRunOptions) {
    this.engine = new StudyEngine(opts.spec, {
      countPrunedInBest: opts.countPrunedInBest ?? false,
      ...(opts.priors ? { priors: opts.priors } : {}),
    });
    this.gpus = gpuPlan(opts);
    mkdirSync(join(opts.outputDir, 'logs'), { recursive: true });
    if (opts.resume) this.restore(opts.resume);
  }

  /** Takes the resumed run's trials back: finished ones as they ended, the others queued. */
  private restore({ finished, rerun }: Pick<ResumeState, 'finished' | 'rerun'>): void {
    for (const f of finished) {
      const trial = this.newTrial(f.index, this.engine.space.parse(f.params));
      Object.assign(trial, {
        state: f.state,
        metrics: f.metrics,
        intermediate: f.intermediate,
        startTime: f.startTime,
        completionTime: f.completionTime,
        ...(f.value === undefined ? {} : { value: f.value }),
        ...(f.reason === undefined ? {} : { reason: f.reason }),
        ...(f.message === undefined ? {} : { message: f.message }),
        ...(f.prunedAtStep === undefined ? {} : { prunedAtStep: f.prunedAtStep }),
      });
      this.trials.push(trial);
      this.attempts.set(f.index, f.attempts);
    }
    for (const r of rerun) {
      const trial = this.newTrial(r.index, this.engine.space.parse(r.params));
      trial.state = 'Pending';
      this.trials.push(trial);
      this.reruns.push(trial);
      this.attempts.set(r.index, r.attempts);
    }
    this.trials.sort((a, b) => a.index - b.index);
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
      this.gpus?.allocator.release(r.devices);
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
        // A resumed run's unfinished trials go first, with their own index and parameters.
        while (
          this.reruns.length > 0 &&
          this.running.size < this.opts.spec.parallelism &&
          this.gpuTrialsRoom() > 0
        ) {
          this.launchTrial(this.reruns.shift() as LocalTrial);
          started++;
        }
        const planned = await this.engine.plan(this.trials, this.wanted());
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

  /** Free parallel slots, fewer while trials wait for a GPU share. */
  private wanted(): number {
    return Math.min(this.engine.freeSlots(this.trials), this.gpuTrialsRoom());
  }

  /** How many more trials the free GPU shares can take. */
  private gpuTrialsRoom(): number {
    const gpus = this.gpus;
    if (!gpus || gpus.maxPerTrial === 0 || gpus.none) return Infinity;
    // A trial that asks for more than the machine has is started anyway, to fail with the reason.
    const planned = Math.min(gpus.maxPerTrial, gpus.allocator.devices.length);
    return planned === 0 ? Infinity : gpus.allocator.room(planned);
  }

  private stopAll(cause: RunnerStop): void {
    for (const r of this.running.values()) r.process.stop(cause);
  }

  private newTrial(index: number, params: LocalTrial['params']): LocalTrial {
    const name = trialName(this.opts.name, index);
    return {
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
  }

  /** A new trial: journalled with its parameters before anything runs, then launched. */
  private start(index: number, params: LocalTrial['params']): void {
    const trial = this.newTrial(index, params);
    this.opts.journal?.append({ event: 'asked', index, params: trial.formattedParams });
    this.trials.push(trial);
    this.launchTrial(trial);
  }

  private launchTrial(trial: LocalTrial): void {
    const { index } = trial;
    const attempt = (this.attempts.get(index) ?? 0) + 1;
    this.attempts.set(index, attempt);
    if (attempt > 1) keepEarlierLog(trial.logFile, attempt - 1);
    trial.state = 'Running';
    trial.startTime = new Date().toISOString();
    // Created before the trial starts, so a run killed at any moment leaves this attempt's log
    // for a resume to keep (createWriteStream alone opens the file some time later).
    writeFileSync(trial.logFile, '');
    const log = createWriteStream(trial.logFile);
    let spec: ProcessSpec;
    try {
      spec = this.processSpec(trial);
    } catch (err) {
      log.end();
      this.finish(trial, { state: 'Failed', reason: 'InvalidTemplate', message: (err as Error).message });
      return;
    }
    const devices = this.takeGpus(trial, spec);
    if (!devices) {
      log.end();
      return;
    }
    const running = this.launch(trial, spec, log, devices);
    const pgid = running.process.pid;
    if (pgid !== undefined) this.opts.groups?.started(pgid);
    this.opts.journal?.append({
      event: 'started',
      index,
      attempt,
      startTime: trial.startTime,
      ...(pgid === undefined ? {} : { pgid, leaderStart: processStart(pgid) }),
    });
    this.running.set(index, running);
    this.opts.events?.trialStarted?.(trial);
    this.opts.events?.progress?.(this.trials);
    void running.process.ended.then((end) => {
      if (pgid !== undefined) this.opts.groups?.ended(pgid);
      // abort() has already recorded the trial when it is no longer among the running ones.
      if (!this.running.delete(index)) return;
      clearTimeout(running.timer);
      log.end();
      this.gpus?.allocator.release(running.devices);
      trial.intermediate = running.collector.intermediate();
      this.finish(trial, trialEnd(running, end));
      this.wake?.();
    });
  }

  /**
   * The GPU shares for a trial that asks for GPUs, shown to it through the vendor's variables;
   * undefined, with the trial failed, when the machine has fewer GPUs than it asks for.
   */
  private takeGpus(trial: LocalTrial, spec: ProcessSpec): string[] | undefined {
    const gpus = this.gpus;
    if (!gpus || gpus.maxPerTrial === 0) return [];
    const { allocator, vendor, source } = gpus;
    const perTrial = trialGpuRequest(this.opts.spec, {
      study: this.opts.name,
      name: trial.name,
      index: trial.index,
      params: trial.formattedParams,
    });
    if (gpus.none) {
      Object.assign(spec.env, visibleDevicesEnv(vendor, []));
      trial.devices = [];
      return [];
    }
    if (!allocator.fits(perTrial)) {
      const have = allocator.devices.length;
      this.finish(trial, {
        state: 'Failed',
        reason: 'InsufficientGpus',
        message:
          `the trial asks for ${perTrial} GPU${perTrial === 1 ? '' : 's'} but this machine has ${have} ` +
          `(${have ? allocator.devices.join(',') + ' from ' : ''}${source}); ` +
          `lower the request or pass --gpus (--gpus none runs the trials without a GPU)`,
      });
      return undefined;
    }
    // wanted() planned no more trials than have room, so a share is free.
    const devices = allocator.take(perTrial) as string[];
    const previousOrder = spec.env['CUDA_DEVICE_ORDER'];
    Object.assign(spec.env, visibleDevicesEnv(vendor, devices));
    if (previousOrder !== undefined) spec.env['CUDA_DEVICE_ORDER'] = previousOrder;
    trial.devices = devices;
    return devices;
  }

  /** The command the trial template's primary container would run, with the trial's values. */
  private processSpec(trial: LocalTrial): ProcessSpec {
    const { spec, name: study, cwd } = this.opts;
    const { spec: rendered } = renderWorkload(spec.trialTemplate, {
      study,
      name: trial.name,
      index: trial.index,
      params: trial.formattedParams,
    });
    return processForContainer(primaryContainer(spec.trialTemplate, rendered), {
      study,
      trial: trial.name,
      index: trial.index,
      cwd,
      checkpointDir: join(this.opts.outputDir, 'checkpoints', trial.name),
    });
  }

  private launch(trial: LocalTrial, spec: ProcessSpec, log: WriteStream, devices: string[]): Running {
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
      devices,
      tail: [],
      journalled: 0,
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
    const last = r.trial.intermediate.at(-1);
    // A chatty trainer must not grow the journal (one fsync each) without bound; the finished
    // entry carries the thinned curve anyway.
    if (last && r.journalled++ < this.opts.spec.metrics.maxIntermediateValues)
      this.opts.journal?.append({ event: 'report', index: r.trial.index, ...last });
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
    this.opts.journal?.append({
      event: 'finished',
      index: trial.index,
      state: trial.state,
      metrics: trial.metrics,
      intermediate: trial.intermediate,
      completionTime: trial.completionTime,
      // JSON has no NaN or Infinity; such a value was never a result.
      ...(trial.value !== undefined && Number.isFinite(trial.value) ? { value: trial.value } : {}),
      ...(trial.reason === undefined ? {} : { reason: trial.reason }),
      ...(trial.message === undefined ? {} : { message: trial.message }),
      ...(trial.prunedAtStep === undefined ? {} : { prunedAtStep: trial.prunedAtStep }),
    });
    if (!isActive(trial)) this.opts.events?.trialFinished?.(trial);
    this.opts.events?.progress?.(this.trials);
  }
}

function gpuPlan(opts: LocalRunOptions): GpuPlan | undefined {
  if (!opts.gpus) return undefined;
  return {
    maxPerTrial: maxGpuRequest(opts.spec),
    vendor: gpuVendor(studyGpuResources(opts.spec)),
    allocator: new GpuAllocator(opts.gpus.ids, opts.gpus.trialsPerGpu ?? 1),
    source: opts.gpus.source,
    none: opts.gpus.none === true,
  };
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
