// Where a local PyTorch trial's wall time goes, and how many trials an hour `kubetune run` gets
// through on this machine's CPUs.
//   npm run bench:local-startup [-- --runs 3 --trials 8 --parallelism 1,2 --train-size 2000 --epochs 2]
// Part 1 runs examples/pytorch/train.py directly, --runs times, and splits each run's wall time
// into the phases train.py reports (imports, device init, data) and those seen from outside
// (spawn to first line, epochs, exit, pipes closed after exit). Part 2 runs the example study,
// made small, through the local runner at each parallelism and reports trials per hour and the
// time trial slots stood idle between one trial's end and the next one's start.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { StudySpec } from '../../src/api/study.js';
import { LocalRunner } from '../../src/local/local-runner.js';
import type { LocalTrial } from '../../src/local/local-trial.js';
import { torchPython } from '../../test/support/torch-python.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TRAIN = 'examples/pytorch/train.py';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    trials: { type: 'string', default: '8' },
    parallelism: { type: 'string', default: '1,2' },
    'train-size': { type: 'string', default: '2000' },
    epochs: { type: 'string', default: '2' },
  },
});
const small = [`--train-size=${values['train-size']}`, '--val-size=500', '--threads=1', '--device=cpu'];
const python = torchPython();

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

interface Phases {
  [phase: string]: number;
}

/** One direct run of train.py, its wall time split into phases (seconds). */
function phasesOfOneRun(): Promise<Phases> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const at = () => (performance.now() - t0) / 1000;
    const args = [TRAIN, ...small, `--epochs=${values.epochs}`, '--seed=1'];
    const child = spawn(python, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let startupLine = NaN;
    const epochs: number[] = [];
    let exit = NaN;
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      if (Number.isNaN(startupLine) && stderr.includes('startup seconds')) startupLine = at();
    });
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      buffered += c;
      for (const _ of buffered.match(/^epoch=.*\n/gm) ?? []) epochs.push(at());
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    });
    child.on('exit', () => (exit = at()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`train.py exited ${code}: ${stderr}`));
      const m = /imports ([\d.]+), device ([\d.]+) .*data ([\d.]+)/.exec(stderr);
      if (!m || epochs.length === 0) return reject(new Error(`unexpected output: ${stderr}`));
      const [imports, device, data] = [Number(m[1]), Number(m[2]), Number(m[3])];
      resolve({
        'interpreter start (spawn to first statement)': startupLine - imports - device - data,
        'import numpy + torch': imports,
        'device init (CUDA context on a GPU)': device,
        'data load (npz to tensors)': data,
        'model + epoch 1 (to first metric line)': epochs[0]! - startupLine,
        'later epochs': epochs.at(-1)! - epochs[0]!,
        'last metric line to process exit': exit - epochs.at(-1)!,
        'process exit to pipes closed': at() - exit,
        total: at(),
      });
    });
  });
}

async function partOne(): Promise<void> {
  const runs: Phases[] = [];
  for (let i = 0; i < Number(values.runs); i++) runs.push(await phasesOfOneRun());
  console.log(
    `\n## One trial, run directly (${values.runs} runs, median; ${small.join(' ')} --epochs=${values.epochs})\n`,
  );
  console.log('| phase | seconds | share |');
  console.log('| --- | ---: | ---: |');
  const total = median(runs.map((r) => r['total']!));
  for (const phase of Object.keys(runs[0]!)) {
    const s = median(runs.map((r) => r[phase]!));
    const share = phase === 'total' ? '' : `${((100 * s) / total).toFixed(0)}%`;
    console.log(`| ${phase} | ${s.toFixed(3)} | ${share} |`);
  }
}

interface StudyManifest {
  spec: Record<string, unknown> & {
    trialTemplate: { spec: { template: { spec: { containers: { command: string[]; args: string[] }[] } } } };
  };
}

/** The example study, made small: `trials` trials of --epochs, no early stopping. */
function smallStudy(parallelism: number): StudySpec {
  const manifest = parse(readFileSync(join(ROOT, 'examples/pytorch/study.yaml'), 'utf8')) as StudyManifest;
  const container = manifest.spec.trialTemplate.spec.template.spec.containers[0]!;
  container.command = [python, TRAIN];
  container.args = [
    ...container.args.filter((a) => !a.startsWith('--epochs=')),
    `--epochs=${values.epochs}`,
    ...small,
  ];
  const { earlyStopping: _, ...spec } = manifest.spec;
  return StudySpec.parse({ ...spec, maxTrials: Number(values.trials), parallelism });
}

/** Seconds slots stood idle: for each trial after the first `parallelism`, from the latest end before its start. */
function idleBetweenTrials(trials: readonly LocalTrial[], parallelism: number): number[] {
  const ends = trials.map((t) => Date.parse(t.completionTime ?? '')).sort((a, b) => a - b);
  return trials.slice(parallelism).map((t) => {
    const start = Date.parse(t.startTime);
    const before = ends.filter((e) => e <= start + 1).at(-1) ?? start;
    return (start - before) / 1000;
  });
}

async function partTwo(): Promise<void> {
  console.log(
    `\n## The example study through the local runner (${values.trials} trials, CPU, --gpus none)\n`,
  );
  console.log(
    '| parallelism | wall s | trials/hour | mean trial s | mean slot idle between trials s | best val_accuracy |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const p of values.parallelism.split(',').map(Number)) {
    const runner = new LocalRunner({
      name: `bench-${p}`,
      spec: smallStudy(p),
      cwd: ROOT,
      outputDir: mkdtempSync(join(tmpdir(), 'kt-bench-startup-')),
      gpus: { ids: [], source: '--gpus none', none: true },
    });
    const started = performance.now();
    const result = await runner.run();
    const wall = (performance.now() - started) / 1000;
    const done = result.trials.filter((t) => t.state === 'Succeeded');
    const durations = result.trials.map(
      (t) => (Date.parse(t.completionTime!) - Date.parse(t.startTime)) / 1000,
    );
    const idle = idleBetweenTrials(result.trials, p);
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
    console.log(
      `| ${p} | ${wall.toFixed(1)} | ${((3600 * done.length) / wall).toFixed(0)} | ${mean(durations).toFixed(2)} | ` +
        `${mean(idle).toFixed(3)} | ${runner.best()?.value ?? '-'} |`,
    );
  }
}

console.log(`# local trial start-up, examples/pytorch on CPU (${python})`);
await partOne();
await partTwo();
