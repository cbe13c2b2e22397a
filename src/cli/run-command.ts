import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalRunner } from '../local/local-runner.js';
import { progressReporter } from '../local/progress.js';
import { writeResults } from '../local/results.js';
import { loadStudy, UserError } from './load-study.js';

const USAGE = `usage: kubetune run STUDY.yaml [--output DIR] [--parallelism N] [--max-trials N] [--count-pruned-in-best]

Runs the study's trials as local processes on this machine.`;

export async function runCommand(argv: string[]): Promise<number> {
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
    return 0;
  }
  if (positionals.length !== 1) throw new UserError(USAGE);
  const file = positionals[0] as string;
  const manifest = loadStudy(file);
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
  const outputDir = resolve(values.output ?? `kubetune-results/${name}`);
  const reporter = progressReporter(process.stderr, {
    maxTrials: spec.maxTrials,
    goal: spec.objective.goal,
    metric: spec.objective.metric,
  });
  const runner = new LocalRunner({
    name,
    spec,
    cwd: process.cwd(),
    outputDir,
    events: reporter,
    countPrunedInBest: values['count-pruned-in-best'] ?? false,
  });

  console.error(
    `study ${name}: ${spec.algorithm.name} search over ${spec.parameters.length} parameters, ` +
      `${spec.maxTrials} trials, ${spec.parallelism} at a time; ${spec.objective.goal} ${spec.objective.metric}`,
  );
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      console.error('\ninterrupted: stopping running trials (Ctrl-C again to kill them now)');
      runner.interrupt();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    const result = await runner.run();
    reporter.close();
    const best = runner.best();
    const paths = writeResults(outputDir, {
      study: name,
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
      trials: result.trials,
    });
    if (result.outcome.done)
      console.log(`study ${result.outcome.succeeded ? 'succeeded' : 'failed'}: ${result.outcome.message}`);
    else if (result.interrupted) console.log('study interrupted');
    if (best) {
      console.log(`best trial: ${best.trial.name} ${spec.objective.metric}=${best.value}`);
      for (const [k, v] of Object.entries(runner.formatted(best.trial.params))) console.log(`  ${k}: ${v}`);
    } else {
      console.log('no trial produced the objective metric');
    }
    console.log(`results: ${paths.json}\n         ${paths.csv}`);
    if (result.interrupted) return 130;
    return result.outcome.done && result.outcome.succeeded ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
