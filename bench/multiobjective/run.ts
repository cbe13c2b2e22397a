/**
 * Multi-objective benchmark (issue 16). Usage:
 *   npm run bench:multiobjective -- [--fn zdt1,zdt2,dtlz2] [--seeds 10] [--budgets 100,200]
 *     [--sampler tpe,bayesian,nsga2,optuna-nsga2,optuna-tpe] [--out bench/results/multiobjective.jsonl]
 * ZDT1 and ZDT2 with 5 parameters (2 objectives), DTLZ2 with 6 parameters and 3 objectives, all
 * on [0, 1]. Each (function, sampler, seed) is one run of the largest budget; smaller budgets
 * are its prefixes. Optuna's NSGAIISampler and TPESampler (defaults, Debian's python3-optuna)
 * run side by side through bench/multiobjective/optuna_runner.py, on the same problems
 * evaluated here, and every front is scored by the same hypervolume code. Prints the median
 * hypervolume per budget with the reference point used (higher is better), and on stderr how
 * long each of our samplers took to ask, where the last ask of a run is what an operator's
 * worker pays at that history. Every run is also appended to the --out file as it ends, so a
 * long benchmark cut short keeps what it measured.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { AlgorithmName } from '../../src/api/study.js';
import { createStudy } from '../../src/engine/ask-tell.js';
import { hypervolume } from '../../src/engine/pareto.js';
import { dtlz2, pointOf, type Problem, problemSpace, zdt1, zdt2 } from './problems.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const list = (v: string | undefined, d: string[]) => (v ? v.split(',') : d);

const PROBLEMS = [zdt1(5), zdt2(5), dtlz2(6)];
const problems = PROBLEMS.filter((p) => list(arg('fn'), ['zdt1', 'zdt2', 'dtlz2']).includes(p.name));
const seeds = Number(arg('seeds') ?? 10);
const budgets = list(arg('budgets'), ['100', '200']).map(Number);
const samplers = list(arg('sampler'), ['tpe', 'bayesian', 'nsga2', 'optuna-nsga2', 'optuna-tpe']);
const trials = Math.max(...budgets);
const out = arg('out') ?? 'bench/results/multiobjective.jsonl';
/** Debian's interpreter, where apt puts python3-optuna (a pyenv or venv python would not see it). */
const PYTHON = process.env['KUBETUNE_BENCH_PYTHON'] ?? '/usr/bin/python3';

/** Objective vectors of one run, in trial order. */
type Run = number[][];

/** Runs one of our samplers; how long each ask took (ms) is appended to askMs. */
async function runOurs(
  problem: Problem,
  algorithm: AlgorithmName,
  seed: number,
  askMs: number[],
): Promise<Run> {
  const study = createStudy({
    ...problemSpace(problem),
    algorithm: { name: algorithm },
    seed,
    maxTrials: trials,
  });
  const values: Run = [];
  for (let t = 0; t < trials; t++) {
    const asked = performance.now();
    const [trial] = await study.ask(1);
    askMs.push(performance.now() - asked);
    const f = problem.evaluate(pointOf(problem, trial!.params));
    values.push(f);
    study.tell(trial!.id, { values: f });
  }
  return values;
}

/** One long-lived Optuna process; jobs run one after another over its stdin/stdout. */
class Optuna {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private readonly lines: AsyncIterator<string>;
  version = '';

  constructor() {
    const script = fileURLToPath(new URL('./optuna_runner.py', import.meta.url));
    this.child = spawn(PYTHON, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  private async line(): Promise<unknown> {
    const next = await this.lines.next();
    if (next.done) {
      const code = await new Promise<number | null>((r) =>
        this.child.exitCode !== null ? r(this.child.exitCode) : this.child.once('exit', r),
      );
      throw new Error(
        code === 3
          ? `Optuna is missing for ${PYTHON}: install python3-optuna (apt-get install python3-optuna)`
          : `${PYTHON} bench/multiobjective/optuna_runner.py exited with ${code}`,
      );
    }
    return JSON.parse(next.value);
  }

  async start(): Promise<void> {
    this.version = ((await this.line()) as { optuna: string }).optuna;
  }

  async run(problem: Problem, sampler: string, seed: number): Promise<Run> {
    const job = { sampler, seed, dims: problem.dims, objectives: problem.objectives, trials };
    this.child.stdin.write(`${JSON.stringify(job)}\n`);
    const values: Run = [];
    for (let t = 0; t < trials; t++) {
      const f = problem.evaluate((await this.line()) as number[]);
      values.push(f);
      this.child.stdin.write(`${JSON.stringify(f)}\n`);
    }
    await this.line(); // {"done": true}
    return values;
  }

  close(): void {
    this.child.stdin.end();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
};

async function main(): Promise<void> {
  mkdirSync(dirname(out), { recursive: true });
  const optuna = samplers.some((s) => s.startsWith('optuna-')) ? new Optuna() : undefined;
  await optuna?.start();
  const hv = new Map<string, number[]>(); // `${fn}|${sampler}|${budget}` → one value per seed
  for (const problem of problems) {
    for (const sampler of samplers) {
      const started = Date.now();
      const askMs: number[] = [];
      for (let seed = 0; seed < seeds; seed++) {
        const run = sampler.startsWith('optuna-')
          ? await optuna!.run(problem, sampler.slice('optuna-'.length), seed)
          : await runOurs(problem, sampler as AlgorithmName, seed, askMs);
        const byBudget: Record<number, number> = {};
        for (const b of budgets) {
          const key = `${problem.name}|${sampler}|${b}`;
          byBudget[b] = hypervolume(run.slice(0, b), problem.reference);
          hv.set(key, [...(hv.get(key) ?? []), byBudget[b]]);
        }
        appendFileSync(
          out,
          `${JSON.stringify({ fn: problem.name, sampler, seed, hypervolume: byBudget })}\n`,
        );
      }
      // The last ask of a run sees the longest history: the cost the operator's worker pays.
      const lastAsks = askMs.filter((_, i) => i % trials === trials - 1);
      const askCost = askMs.length
        ? `; ask ${median(askMs).toFixed(1)} ms median, ${median(lastAsks).toFixed(1)} ms at trial ${trials}, ${Math.max(...askMs).toFixed(1)} ms max`
        : '';
      process.stderr.write(
        `${problem.name} ${sampler}: ${seeds} seeds in ${((Date.now() - started) / 1000).toFixed(1)} s${askCost}\n`,
      );
    }
  }
  optuna?.close();
  printTable(hv, optuna?.version);
}

function printTable(hv: Map<string, number[]>, optunaVersion: string | undefined): void {
  const ours = samplers.filter((s) => !s.startsWith('optuna-'));
  const theirs = samplers.filter((s) => s.startsWith('optuna-'));
  const header = [
    'function',
    'dims',
    'reference',
    'trials',
    ...samplers,
    ...(ours.length && theirs.length ? ['best ours / best optuna'] : []),
  ];
  const rows: string[][] = [header];
  for (const problem of problems) {
    for (const b of budgets) {
      const m = (s: string) => median(hv.get(`${problem.name}|${s}|${b}`) ?? [NaN]);
      const row = [
        problem.name,
        String(problem.dims),
        `(${problem.reference.join(', ')})`,
        String(b),
        ...samplers.map((s) => m(s).toFixed(4)),
      ];
      if (ours.length && theirs.length) {
        const bestOurs = Math.max(...ours.map(m));
        const bestTheirs = Math.max(...theirs.map(m));
        row.push((bestOurs / bestTheirs).toFixed(4));
      }
      rows.push(row);
    }
  }
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log(
    `\nMedian hypervolume over ${seeds} seeds (higher is better)${optunaVersion ? `; Optuna ${optunaVersion}` : ''}`,
  );
  for (const r of rows)
    console.log(
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
}

await main();
