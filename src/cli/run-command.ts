import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { objectivesOf, primaryObjective } from '../api/objectives.js';
import type { StudySpec } from '../api/study.js';
import { TRIAL_STATES, type TrialState } from '../api/trial.js';
import { LocalRunner, type LocalRunResult } from '../local/local-runner.js';
import type { LocalTrial } from '../local/local-trial.js';
import { progressReporter } from '../local/progress.js';
import { writeResults } from '../local/results.js';
import { guardTrials, signalExitCode } from '../local/shutdown.js';
import { loadStudy, UserError } from './load-study.js';

const USAGE = `usage: kubetune run STUDY.yaml [--output DIR] [--parallelism N] [--max-trials N] [--count-pruned-in-best]

Runs the study's trials as local processes on this machine.`;

interface RunArgs {
  name: string;
  spec: StudySpec;
  outputDir: string;
  countPrunedInBest: boolean;
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
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return undefined;
  }
  if (positionals.length !== 1) throw new UserError(USAGE);
  const { manifest, yaml11 } = loadStudy(positionals[0] as string);
  // The run goes ahead with kubetune's reading; the same file would mean something else in a cluster.
  for (const w of yaml11) console.error(`warning: ${w}`);
  const spec = { ...manifest.spec };
  const positiveInt = (flag: string, raw: string | undefined): number | undefined => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1)
      throw new UserError(`--${flag} must be a whole number >= 1, got ${JSON.stringify(raw)}`);
    return n;
  };
  spec.parallelism = positiveInt('parallelism', values.parallelism) ?? spec.parallelism;
  spec.maxTrials = positiveInt('max-trials', values['max-trials']) ?? spec.maxTrials;
  const name = manifest.metadata.name ?? 'study';
  return {
    name,
    spec,
    outputDir: resolve(values.output ?? `kubetune-results/${name}`),
    countPrunedInBest: values['count-pruned-in-best'] ?? false,
  };
}

export async function runCommand(argv: string[]): Promise<number> {
  const args = parseRunArgs(argv);
  if (!args) return 0;
  const { name, spec, outputDir } = args;
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
    cwd: process.cwd(),
    outputDir,
    events: reporter,
    countPrunedInBest: args.countPrunedInBest,
  });

  console.error(
    `study ${name}: ${spec.algorithm.name} search over ${spec.parameters.length} parameters, ` +
      `${spec.maxTrials} trials, ${spec.parallelism} at a time; ${objectivesOf(spec)
        .map((o) => `${o.goal} ${o.metric}`)
        .join(', ')}`,
  );
  const report = (result: LocalRunResult) => {
    reporter.close();
    reportResults(runner, result, { name, spec, outputDir });
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
  }
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
  study: { name: string; spec: StudySpec; outputDir: string },
): void {
  const { spec } = study;
  const best = runner.best();
  const front = runner.paretoFront();
  const objectives = objectivesOf(spec);
  const paths = writeResults(study.outputDir, {
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
  });
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
  console.log(`results: ${paths.json}\n         ${paths.csv}`);
}
