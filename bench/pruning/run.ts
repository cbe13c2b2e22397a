/**
 * Pruning benchmark: `npm run bench:pruning [-- --seeds N]`.
 *
 * Random search over simulated learning curves (./curves.ts), driven through createStudy with
 * ask/report/tell by 4 simulated asynchronous workers (an event queue ordered by simulated time).
 * Each configuration runs without pruning and with every pruner. New trials start while the
 * epoch budget lasts; trials already running finish. Reported per configuration, as the median
 * over seeds: epochs spent, the true final value of the trial the study picks as best, trials
 * started and completed, and how often the best configuration sampled in a run was pruned.
 * JSON lines (one per run, one per summary row) go to bench/results/pruning.jsonl.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { PrunerName } from '../../src/api/study.js';
import { createStudy } from '../../src/engine/ask-tell.js';
import type { Scenario, Theta } from './curves.js';
import { EPOCHS, epochSeconds, observedLoss, SCENARIOS, trueFinal } from './curves.js';

const WORKERS = 4;
/** Budget without pruning: 40 full trials. */
const FULL_BUDGET = 40 * EPOCHS;

interface Config {
  label: string;
  pruner?: { name: PrunerName; settings: Record<string, unknown> };
  budget: number;
}

interface RunResult {
  scenario: Scenario;
  label: string;
  seed: number;
  budget: number;
  epochs: number;
  bestTrueFinal: number;
  bestObserved: number;
  started: number;
  completed: number;
  pruned: number;
  trueBestPruned: boolean;
  simulatedTime: number;
}

const RESOURCES = { minResource: 1, maxResource: EPOCHS, reductionFactor: 3 };
const CONFIGS: Config[] = [
  { label: 'none', budget: FULL_BUDGET },
  { label: 'none @0.4B', budget: 0.4 * FULL_BUDGET },
  { label: 'median @0.4B', pruner: { name: 'median', settings: {} }, budget: 0.4 * FULL_BUDGET },
  { label: 'percentile @0.4B', pruner: { name: 'percentile', settings: {} }, budget: 0.4 * FULL_BUDGET },
  { label: 'asha @0.4B', pruner: { name: 'asha', settings: RESOURCES }, budget: 0.4 * FULL_BUDGET },
  { label: 'hyperband @0.4B', pruner: { name: 'hyperband', settings: RESOURCES }, budget: 0.4 * FULL_BUDGET },
  { label: 'median @B', pruner: { name: 'median', settings: {} }, budget: FULL_BUDGET },
  { label: 'asha @B', pruner: { name: 'asha', settings: RESOURCES }, budget: FULL_BUDGET },
  { label: 'hyperband @B', pruner: { name: 'hyperband', settings: RESOURCES }, budget: FULL_BUDGET },
];

interface Running {
  id: number;
  theta: Theta;
  epoch: number;
  at: number;
  worker: number;
}

async function runOne(scenario: Scenario, cfg: Config, seed: number): Promise<RunResult> {
  const study = createStudy({
    parameters: [
      { name: 'x', type: 'double', min: 0, max: 1 },
      { name: 'y', type: 'double', min: 0, max: 1 },
      { name: 'lr', type: 'double', min: 1e-4, max: 1e-1, log: true },
    ],
    objective: { metric: 'loss', goal: 'minimize' },
    algorithm: { name: 'random' },
    ...(cfg.pruner ? { earlyStopping: cfg.pruner } : {}),
    maxTrials: 100000,
    seed,
  });
  const thetas = new Map<number, Theta>();
  const states = new Map<number, 'done' | 'pruned' | 'running'>();
  let epochs = 0;
  let now = 0;
  const queue: Running[] = [];

  async function start(worker: number, at: number): Promise<void> {
    if (epochs >= cfg.budget) return;
    const [asked] = await study.ask(1);
    if (!asked) return;
    const theta = asked.params as unknown as Theta;
    thetas.set(asked.id, theta);
    states.set(asked.id, 'running');
    queue.push({ id: asked.id, theta, epoch: 1, at: at + epochSeconds(theta), worker });
  }

  for (let w = 0; w < WORKERS; w++) await start(w, 0);
  while (queue.length > 0) {
    // Next event: earliest time, then lowest worker, so runs are reproducible.
    queue.sort((a, b) => a.at - b.at || a.worker - b.worker);
    const ev = queue.shift() as Running;
    now = ev.at;
    epochs++;
    const loss = observedLoss(scenario, seed, ev.id, ev.theta, ev.epoch);
    if (ev.epoch === EPOCHS) {
      study.report(ev.id, ev.epoch, loss);
      study.tell(ev.id, loss);
      states.set(ev.id, 'done');
      await start(ev.worker, now);
      continue;
    }
    const decision = study.report(ev.id, ev.epoch, loss);
    if (decision.prune) {
      study.tell(ev.id, { state: 'pruned' });
      states.set(ev.id, 'pruned');
      await start(ev.worker, now);
      continue;
    }
    queue.push({ ...ev, epoch: ev.epoch + 1, at: now + epochSeconds(ev.theta) });
  }

  const best = study.best();
  let trueBestId = -1;
  let trueBestValue = Infinity;
  for (const [id, theta] of thetas) {
    const v = trueFinal(scenario, theta);
    if (v < trueBestValue) [trueBestId, trueBestValue] = [id, v];
  }
  const count = (s: string) => [...states.values()].filter((x) => x === s).length;
  return {
    scenario,
    label: cfg.label,
    seed,
    budget: cfg.budget,
    epochs,
    bestTrueFinal: best ? trueFinal(scenario, thetas.get(best.id) as Theta) : NaN,
    bestObserved: best?.value ?? NaN,
    started: thetas.size,
    completed: count('done'),
    pruned: count('pruned'),
    trueBestPruned: states.get(trueBestId) === 'pruned',
    simulatedTime: now,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seeds: { type: 'string', default: '20' } } });
  const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => i);
  const lines: string[] = [];
  for (const scenario of SCENARIOS) {
    const rows: Record<string, string | number>[] = [];
    let reference: { epochs: number; best: number } | undefined;
    for (const cfg of CONFIGS) {
      const runs: RunResult[] = [];
      for (const seed of seeds) runs.push(await runOne(scenario, cfg, seed));
      for (const r of runs) lines.push(JSON.stringify({ kind: 'run', ...r }));
      const epochs = median(runs.map((r) => r.epochs));
      const best = median(runs.map((r) => r.bestTrueFinal));
      reference ??= { epochs, best };
      const summary = {
        pruner: cfg.label,
        budget: cfg.budget,
        epochs,
        'epochs/none': Number((epochs / reference.epochs).toFixed(2)),
        'best true final': Number(best.toFixed(4)),
        'vs none': best <= reference.best ? 'same/better' : `+${(best - reference.best).toFixed(4)}`,
        'true best pruned': `${runs.filter((r) => r.trueBestPruned).length}/${runs.length}`,
        started: median(runs.map((r) => r.started)),
        completed: median(runs.map((r) => r.completed)),
      };
      rows.push(summary);
      lines.push(JSON.stringify({ kind: 'summary', scenario, seeds: seeds.length, ...summary }));
    }
    console.log(
      `\nscenario ${scenario}: random search, ${WORKERS} async workers, ${EPOCHS} epochs per full trial, ` +
        `B = ${FULL_BUDGET} epochs, medians over ${seeds.length} seeds`,
    );
    console.table(rows);
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/pruning.jsonl', `${lines.join('\n')}\n`);
  console.log('wrote bench/results/pruning.jsonl');
}

await main();
