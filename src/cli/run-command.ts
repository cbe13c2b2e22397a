import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { objectivesOf, primaryObjective } from '../api/objectives.js';
import type { StudySpec } from '../api/study.js';
import { maxGpuRequest, studyGpuResources } from '../engine/gpu-request.js';
import { TRIAL_STATES, type TrialState } from '../api/trial.js';
import { LocalRunner, type LocalRunResult } from '../local/local-runner.js';
import { detectGpus, gpuVendor, type GpuDevices } from '../local/gpu-devices.js';
import type { LocalTrial } from '../local/local-trial.js';
import { Journal, readJournal } from '../local/journal.js';
import { enginePriors, readPriorResults, type PriorRecord } from '../local/priors.js';
import { progressReporter } from '../local/progress.js';
import { writeResults, type StudyResults } from '../local/results.js';
import { writeReport } from '../report/local-report.js';
import { killLeftovers, replayJournal, type ResumeState } from '../local/resume.js';
import { guardTrials, signalExitCode } from '../local/shutdown.js';
import { DEFAULT_GRACE_MS } from '../local/trial-process.js';
import { TrialReaper } from '../local/trial-reaper.js';
import { loadStudy, UserError } from './load-study.js';
import { isJob, typeName, workloadType } from '../api/workload-kinds.js';

const USAGE = `usage: kubetune run STUDY.yaml [--output DIR] [--parallelism N] [--max-trials N] [--count-pruned-in-best]
                    [--prior RESULTS.json ...] [--gpus LIST|none] [--trials-per-gpu N]
       kubetune run --resume DIR [--gpus LIST|none] [--trials-per-gpu N]

Runs the study's trials as local processes on this machine, recording every decision in
DIR/journal.jsonl. --resume continues the run recorded in DIR after a crash or an interrupt:
finished trials are kept, unfinished ones run again with the same index and parameters.
--prior seeds the sampler with the finished trials of an earlier run over the same parameters
(its results.json); they are listed apart from this run's trials and do not count toward maxTrials.

Trials whose template asks for GPUs (nvidia.com/gpu, amd.com/gpu, ...) get their own devices
through CUDA_VISIBLE_DEVICES (ROCm: ROCR_VISIBLE_DEVICES): the GPUs of nvidia-smi -L or
CUDA_VISIBLE_DEVICES, or --gpus 0,1,3; --gpus none runs them without a GPU. --trials-per-gpu N
lets N trials share one device. Both describe this machine, so a resumed run may change them.`;

interface RunArgs {
  name: string;
  spec: StudySpec;
  outputDir: string;
  cwd: string;
  countPrunedInBest: boolean;
  gpuFlag: string | undefined;
  trialsPerGpu: number;
  priors: PriorRecord[];
  resume?: ResumeState;
}

/** A journal that is missing, unreadable or in the way is the user's to fix: no stack trace. */
function asUserError<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new UserError((err as Error).message);
  }
}

/** The run recorded in `dir`, to continue exactly as it was started. */
function resumeArgs(
  dir: string,
  rest: { positionals: string[]; overrides: string[] },
  gpus: Pick<RunArgs, 'gpuFlag' | 'trialsPerGpu'>,
): RunArgs {
  if (rest.positionals.length > 0 || rest.overrides.length > 0)
    throw new UserError(
      `--resume continues the run recorded in ${dir} with its own study and settings; drop ${[...rest.positionals, ...rest.overrides.map((o) => `--${o}`)].join(', ')}`,
    );
  const outputDir = resolve(dir);
  const state = asUserError(() => replayJournal(readJournal(outputDir)));
  return { ...state, ...gpus, outputDir, resume: state };
}

/** A flag's whole number >= 1, or undefined when it was not given. */
function positiveInt(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new UserError(`--${flag} must be a whole number >= 1, got ${JSON.stringify(raw)}`);
  return n;
}

/** The study to run, with the command line's overrides applied; undefined after --help. */
function parseRunArgs(argv: string[]): RunArgs | undefined {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      parallelism: { type: 'string' },
      'max-trials': { type: 'string' },
      'count-pruned-in-best': { type: 'boolean' },
      gpus: { type: 'string' },
      'trials-per-gpu': { type: 'string' },
      resume: { type: 'string' },
      prior: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return undefined;
  }
  if (values.resume !== undefined) {
    const overrides = (
      ['output', 'parallelism', 'max-trials', 'count-pruned-in-best', 'prior'] as const
    ).filter((o) => values[o] !== undefined);
    return resumeArgs(
      values.resume,
      { positionals, overrides },
      { gpuFlag: values.gpus, trialsPerGpu: positiveInt('trials-per-gpu', values['trials-per-gpu']) ?? 1 },
    );
  }
  if (positionals.length !== 1) throw new UserError(USAGE);
  const { manifest, yaml11 } = loadStudy(positionals[0] as string);
  // The run goes ahead with kubetune's reading; the same file would mean something else in a cluster.
  for (const w of yaml11) console.error(`warning: ${w}`);
  const type = workloadType(manifest.spec.trialTemplate);
  // One local process stands for one pod; a JobSet's or TrainJob's pods need a cluster.
  if (!isJob(type))
    throw new UserError(
      `kubetune run runs batch/v1 Job trial templates only; this Study's trials are ${typeName(type)}: run it with the operator`,
    );
  const spec = { ...manifest.spec };
  spec.parallelism = positiveInt('parallelism', values.parallelism) ?? spec.parallelism;
  spec.maxTrials = positiveInt('max-trials', values['max-trials']) ?? spec.maxTrials;
  const name = manifest.metadata.name ?? 'study';
  return {
    name,
    spec,
    outputDir: resolve(values.output ?? `kubetune-results/${name}`),
    cwd: process.cwd(),
    countPrunedInBest: values['count-pruned-in-best'] ?? false,
    gpuFlag: values.gpus,
    trialsPerGpu: positiveInt('trials-per-gpu', values['trials-per-gpu']) ?? 1,
    priors: asUserError(() => (values.prior ?? []).flatMap((f) => readPriorResults(resolve(f), spec))),
  };
}

export async function runCommand(argv: string[]): Promise<number> {
  const args = parseRunArgs(argv);
  if (!args) return 0;
  const { name, spec, outputDir } = args;
  const gpus = await gpusForRun(args);
  const journal = await openJournal(args);
  const multiObjective = objectivesOf(spec).length > 1;
  // The runner's engine decides what counts as best, so the progress line honours constraints.
  const soFar = (): string => {
    if (multiObjective) return `Pareto front ${runner.paretoFront().length} trials`;
    const best = runner.best();
    return best ? `best ${best.value} (${best.trial.name})` : '';
  };
  const reporter = progressReporter(process.stderr, {
    maxTrials: spec.maxTrials,
    metric: primaryObjective(spec).metric,
    result: soFar,
  });
  const runner = new LocalRunner({
    name,
    spec,
    cwd: args.cwd,
    outputDir,
    events: reporter,
    countPrunedInBest: args.countPrunedInBest,
    ...(gpus ? { gpus: { ...gpus, trialsPerGpu: args.trialsPerGpu } } : {}),
    journal,
    // The guard below covers every way out but SIGKILL and crashes of Node itself; this does too.
    groups: TrialReaper.start(DEFAULT_GRACE_MS),
    priors: asUserError(() => enginePriors(args.priors, spec)),
    ...(args.resume ? { resume: args.resume } : {}),
  });

  console.error(
    `study ${name}: ${spec.algorithm.name} search over ${spec.parameters.length} parameters, ` +
      `${spec.maxTrials} trials, ${spec.parallelism} at a time; ${objectivesOf(spec)
        .map((o) => `${o.goal} ${o.metric}`)
        .join(', ')}`,
  );
  const report = (result: LocalRunResult) => {
    reporter.close();
    reportResults(runner, result, { name, spec, outputDir, priors: args.priors });
  };
  let interruptedBy: NodeJS.Signals | undefined;
  const unguard = guardTrials(runner, {
    onInterrupt: (signal) => {
      interruptedBy = signal;
      console.error(`\n${signal}: stopping running trials; a second Ctrl-C or signal kills them at once`);
    },
    onAbort: () => report(runner.result()),
  });
  try {
    const result = await runner.run();
    report(result);
    if (interruptedBy) return signalExitCode(interruptedBy);
    return result.outcome.done && result.outcome.succeeded ? 0 : 1;
  } finally {
    unguard();
    journal.close();
  }
}

/**
 * The GPUs to hand out when the trial template asks for some, found only then (nvidia-smi may
 * be slow or missing), and a line saying how they will be shared.
 */
async function gpusForRun(args: RunArgs): Promise<GpuDevices | undefined> {
  const perTrial = maxGpuRequest(args.spec);
  if (perTrial === 0) return undefined;
  const resources = studyGpuResources(args.spec);
  let gpus: GpuDevices;
  try {
    gpus = await detectGpus(gpuVendor(resources), args.gpuFlag === undefined ? {} : { flag: args.gpuFlag });
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  const asks = `each trial asks for at most ${perTrial} ${resources.join(' + ')}`;
  if (gpus.none) console.error(`GPUs: ${asks}; --gpus none: trials run without a GPU`);
  else if (perTrial > gpus.ids.length)
    console.error(
      `GPUs: ${asks}, but this machine has ${gpus.ids.length} (${gpus.source}): a trial that asks for more fails; ` +
        `pass --gpus LIST, or --gpus none to run them without a GPU`,
    );
  else
    console.error(
      `GPUs: ${gpus.ids.join(',')} (${gpus.source}), at most ${args.trialsPerGpu} trial(s) per GPU; ${asks}`,
    );
  return gpus;
}

/**
 * A new run's journal, or the resumed one once the crashed run's leftover trial processes are
 * gone (a re-run trial must never overlap its earlier attempt).
 */
async function openJournal(args: RunArgs): Promise<Journal> {
  const { resume, outputDir } = args;
  if (!resume) {
    mkdirSync(outputDir, { recursive: true });
    const { name, cwd, spec, countPrunedInBest, priors } = args;
    return asUserError(() =>
      Journal.create(outputDir, { event: 'study', version: 1, name, cwd, spec, countPrunedInBest, priors }),
    );
  }
  const killed = await killLeftovers(resume.leftovers);
  const journal = Journal.reopen(outputDir);
  journal.append({ event: 'resumed', killedGroups: killed });
  console.error(
    `resuming study ${args.name} from ${outputDir}: ${resume.finished.length} trials finished, ` +
      `${resume.rerun.length} to run again` +
      (killed.length ? `; killed ${killed.length} process groups the earlier run left behind` : ''),
  );
  return journal;
}

/** `2 succeeded, 4 interrupted`: how many trials ended in each state, in a fixed order. */
function stateCounts(trials: readonly LocalTrial[]): string {
  const counts = new Map<TrialState, number>();
  for (const t of trials) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
  return TRIAL_STATES.filter((s) => counts.has(s))
    .map((s) => `${counts.get(s)} ${s === 'MetricsUnavailable' ? 'without metrics' : s.toLowerCase()}`)
    .join(', ');
}

/** Writes results.json and trials.csv and prints the study's end, its best trial and the paths. */
function reportResults(
  runner: LocalRunner,
  result: LocalRunResult,
  study: { name: string; spec: StudySpec; outputDir: string; priors: PriorRecord[] },
): void {
  const { spec } = study;
  const best = runner.best();
  const front = runner.paretoFront();
  const objectives = objectivesOf(spec);
  const results: StudyResults = {
    study: study.name,
    spec,
    outcome: result.outcome,
    interrupted: result.interrupted,
    ...(best
      ? {
          best: {
            trial: best.trial.name,
            index: best.trial.index,
            value: best.value,
            parameters: runner.formatted(best.trial.params),
            metrics: best.trial.metrics,
          },
        }
      : {}),
    ...(objectives.length > 1
      ? {
          paretoFront: {
            objectives: objectives.map((o) => o.metric),
            trials: front.map((p) => ({
              trial: p.trial.name,
              index: p.trial.index,
              values: p.values,
              parameters: runner.formatted(p.trial.params),
            })),
          },
        }
      : {}),
    trials: result.trials,
    priors: study.priors,
  };
  const paths = writeResults(study.outputDir, results);
  const report = reportOrWhy(study.outputDir, results);
  // An interrupted study did not end on its own, whatever the outcome of its trials so far says.
  if (result.interrupted)
    console.log(
      `study interrupted: ${stateCounts(result.trials) || 'no trials'} (maxTrials ${spec.maxTrials})`,
    );
  else if (result.outcome.done)
    console.log(`study ${result.outcome.succeeded ? 'succeeded' : 'failed'}: ${result.outcome.message}`);
  if (objectives.length > 1) {
    console.log(`Pareto front: ${front.length} trials`);
    for (const p of front) {
      const values = p.values.map((v, i) => `${objectives[i]!.metric}=${v}`).join(' ');
      console.log(`  ${p.trial.name} ${values} ${JSON.stringify(runner.formatted(p.trial.params))}`);
    }
  } else if (best) {
    console.log(`best trial: ${best.trial.name} ${primaryObjective(spec).metric}=${best.value}`);
    for (const [k, v] of Object.entries(runner.formatted(best.trial.params))) console.log(`  ${k}: ${v}`);
  } else {
    console.log('no trial produced the objective metric');
  }
  if (study.priors.length > 0)
    console.log(`warm start: ${study.priors.length} prior trials fed the sampler (listed under "priors")`);
  console.log(`results: ${paths.json}\n         ${paths.csv}\n         ${report}`);
}

/** The report's path; a report that cannot be written must not cost the results already saved. */
function reportOrWhy(outputDir: string, results: StudyResults): string {
  try {
    return writeReport(outputDir, results);
  } catch (err) {
    return `(report.html not written: ${(err as Error).message})`;
  }
}
