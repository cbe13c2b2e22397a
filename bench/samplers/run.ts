/**
 * Sampler benchmark (issue 4). Usage:
 *   npm run bench:samplers -- [--fn branin,hartmann6] [--sampler bayesian,tpe,random]
 *     [--seeds 10] [--budget 100] [--batch 1,4] [--async] [--latency] [--no-latency] [--out path]
 * Each (fn, sampler, seed, batch) is one run of `budget` trials; budgets 25/50/100 are its
 * prefixes. Batches are asked and told together; with --async, `batch` workers run trials of
 * seeded random durations and each asks for one trial as soon as it is free, as the operator
 * does with parallelism. Prints median log10 simple regret, then latency figures for bayesian
 * and tpe.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AlgorithmName } from '../../src/api/study.js';
import { type AskedTrial, createStudy, type Study } from '../../src/engine/ask-tell.js';
import { Rng } from '../../src/engine/rng.js';
import { FUNCTIONS, hartmann6 } from './functions.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const list = (v: string | undefined, d: string[]) => (v ? v.split(',') : d);

const fns = FUNCTIONS.filter((f) =>
  list(
    arg('fn'),
    FUNCTIONS.map((g) => g.name),
  ).includes(f.name),
);
const samplers = list(arg('sampler'), ['random', 'tpe', 'bayesian']) as AlgorithmName[];
const seeds = Number(arg('seeds') ?? 10);
const maxBudget = Number(arg('budget') ?? 100);
const budgets = [25, 50, 100].filter((b) => b <= maxBudget);
if (!budgets.includes(maxBudget)) budgets.push(maxBudget);
const batches = list(arg('batch'), ['1', '4']).map(Number);
const out = arg('out') ?? 'bench/results/samplers.jsonl';
const asynchronous = process.argv.includes('--async');
const latency = process.argv.includes('--latency') || !process.argv.includes('--no-latency');
const skipRuns = process.argv.includes('--latency-only');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function runOnce(fnIndex: number, sampler: AlgorithmName, seed: number, batch: number) {
  const fn = fns[fnIndex]!;
  const study = createStudy({
    parameters: fn.parameters,
    objective: { metric: 'y', goal: 'minimize' },
    algorithm: { name: sampler },
    seed,
    maxTrials: maxBudget,
  });
  const trace: number[] = [];
  let best = Infinity;
  const tell = (t: AskedTrial) => {
    const v = fn.f(t.params);
    study.tell(t.id, v);
    best = Math.min(best, v);
    trace.push(best);
  };
  if (asynchronous) {
    await runWorkers(study, batch, seed, tell);
    return trace;
  }
  while (trace.length < maxBudget) {
    for (const t of await study.ask(Math.min(batch, maxBudget - trace.length))) tell(t);
  }
  return trace;
}

/** `workers` trials in flight, durations uniform in [1, 3); the first to end is told first. */
async function runWorkers(study: Study, workers: number, seed: number, tell: (t: AskedTrial) => void) {
  const rng = new Rng(seed, 'bench-durations');
  const running: { trial: AskedTrial; end: number }[] = [];
  let now = 0;
  while (study.remaining > 0 || running.length > 0) {
    while (running.length < workers && study.remaining > 0) {
      const [trial] = await study.ask();
      running.push({ trial: trial!, end: now + 1 + 2 * rng.float() });
    }
    running.sort((a, b) => a.end - b.end);
    const next = running.shift()!;
    now = next.end;
    tell(next.trial);
  }
}

const regret: Map<string, number[]> = new Map();
if (!skipRuns) {
  mkdirSync(dirname(out), { recursive: true });
  for (let fi = 0; fi < fns.length; fi++)
    for (const batch of batches)
      for (const sampler of samplers)
        for (let seed = 0; seed < seeds; seed++) {
          const t0 = performance.now();
          if (sampler === 'cmaes' && fns[fi]!.parameters.some((p) => p.type === 'categorical')) continue;
          const trace = await runOnce(fi, sampler, seed, batch);
          const fn = fns[fi]!;
          for (const budget of budgets) {
            const best = trace.slice(0, budget);
            const r = Math.log10(Math.max(best.at(-1)! - fn.optimum, 1e-12));
            const key = `${fn.name}|${sampler}|${batch}|${budget}`;
            regret.set(key, [...(regret.get(key) ?? []), r]);
            appendFileSync(
              out,
              JSON.stringify({ fn: fn.name, sampler, seed, budget, batch, async: asynchronous, best }) + '\n',
            );
          }
          process.stderr.write(
            `${fn.name} ${sampler} batch=${batch} seed=${seed}: ${(performance.now() - t0).toFixed(0)} ms\n`,
          );
        }

  console.log('\nmedian log10 simple regret (lower is better)');
  const header = ['fn', asynchronous ? 'workers' : 'batch', 'sampler', ...budgets.map((b) => `@${b}`)];
  console.log(header.join('\t'));
  for (const fn of fns)
    for (const batch of batches)
      for (const sampler of samplers) {
        if (!regret.has(`${fn.name}|${sampler}|${batch}|${budgets[0]}`)) continue;
        const row = budgets.map((b) =>
          median(regret.get(`${fn.name}|${sampler}|${batch}|${b}`) ?? [NaN]).toFixed(2),
        );
        console.log([fn.name, batch, sampler, ...row].join('\t'));
      }
}

if (latency) {
  // 6-D Hartmann history of random points; time ask() on a fresh study (no warm state).
  const params = Array.from({ length: 6 }, (_, i) => ({
    name: `x${i}`,
    type: 'double' as const,
    min: 0,
    max: 1,
  }));
  const time = async (sampler: AlgorithmName, n: number, k: number, seed: number) => {
    const study = createStudy({
      parameters: params,
      objective: { metric: 'y', goal: 'minimize' },
      algorithm: { name: sampler },
      seed,
      maxTrials: n + 100,
    });
    const rng = new Rng(seed, 'bench-history');
    for (let i = 0; i < n; i++) {
      const x = rng.unitVector(6);
      study.add(Object.fromEntries(x.map((v, j) => [`x${j}`, v])), hartmann6(x));
    }
    const t0 = performance.now();
    await study.ask(k);
    return performance.now() - t0;
  };
  const reps = Number(arg('reps') ?? 5);
  console.log('\nmedian suggestion latency, 6-D, ms');
  console.log(['sampler', 'obs', 'single', 'batch8', 'ratio'].join('\t'));
  for (const sampler of (['bayesian', 'tpe'] as AlgorithmName[]).filter((s) => samplers.includes(s)))
    for (const n of [100, 300, 1000]) {
      const single: number[] = [];
      const batch: number[] = [];
      for (let r = 0; r < reps; r++) {
        single.push(await time(sampler, n, 1, r));
        batch.push(await time(sampler, n, 8, r));
      }
      console.log(
        [
          sampler,
          n,
          median(single).toFixed(1),
          median(batch).toFixed(1),
          (median(batch) / median(single)).toFixed(2),
        ].join('\t'),
      );
    }
}
