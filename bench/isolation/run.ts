/**
 * Isolation benchmark: `npm run bench:isolation [-- --runs 3 --trials 8]`.
 *
 * Does a Study with a costly model slow the operator down for other Studies? On the real test
 * control plane (KUBETUNE_TEST_KUBECONFIG, or .cluster/ after `npm run cluster:up`) the built
 * operator (dist/main.js, so the worker pool runs from dist) drives a small "normal" study, first
 * alone (baseline), then next to a "heavy" bayesian study with 2,000 finished trials and the
 * largest settings, which suggests continuously. Each run measures, for the normal study, apply
 * → first Job and slot refills (a Job finishing → the next Job); the table gives medians over
 * runs and the ratio to the baseline measured in the same process. First, a table of
 * main-thread costs: the bounded parsers against the backtracking patterns they replaced, and
 * handing a long history to a worker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Watch,
  type KubeConfig,
  type V1Job,
} from '@kubernetes/client-node';
import { StudySpec } from '../../src/api/study.js';
import { seedFinishedTrials } from '../../test/support/prior-trials.js';
import { kubeconfigPath, loadKubeConfig, repoRoot } from '../../test/integration/support/cluster.js';
import { mainThreadTable } from './main-thread.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    trials: { type: 'string', default: '8' },
    history: { type: 'string', default: '2000' },
  },
});
const RUNS = Number(values.runs);
const TRIALS = Number(values.trials);
const HISTORY = Number(values.history);
const FAKE_TRAINER = join(repoRoot, 'test/fixtures/fake-trainer.mjs');
const GROUP = { group: 'kubetune.io', version: 'v1alpha1' };

const kc: KubeConfig = loadKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const coordination = kc.makeApiClient(CoordinationV1Api);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))] as number) : NaN;
};
const median = (xs: number[]) => quantile(xs, 0.5);

const template = (epochs: number) => ({
  spec: {
    backoffLimit: 0,
    template: {
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 2,
        containers: [
          {
            name: 'train',
            image: 'node:20',
            command: ['node', FAKE_TRAINER],
            args: ['--x', '${params.x}', '--y', '${params.y}', '--epochs', String(epochs)],
          },
        ],
      },
    },
  },
});
const parameters = [
  { name: 'x', type: 'double', min: 0, max: 1 },
  { name: 'y', type: 'double', min: 0, max: 1 },
];
const normalSpec = {
  objective: { metric: 'loss', goal: 'minimize' },
  algorithm: { name: 'bayesian' },
  parameters,
  maxTrials: TRIALS,
  parallelism: 2,
  trialTemplate: template(2),
};
const heavySpec = {
  ...normalSpec,
  algorithm: {
    name: 'bayesian',
    settings: { fitObservations: 200, maxObservations: 500, nCandidates: 5000, localSteps: 200 },
  },
  maxTrials: 100_000,
  trialTemplate: template(1),
};

async function namespace(prefix: string): Promise<string> {
  const name = `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e4)}`;
  await core.createNamespace({ body: { metadata: { name, labels: { 'kubetune.dev/test': 'true' } } } });
  return name;
}

function startOperator(namespaces: string[], leaseNs: string): ChildProcess {
  return spawn(
    process.execPath,
    [
      join(repoRoot, 'dist/main.js'),
      '--kubeconfig',
      kubeconfigPath,
      '--namespaces',
      namespaces.join(','),
      '--metrics-port',
      '0',
      '--log-level',
      'warn',
      '--leader-elect',
      '--lease-namespace',
      leaseNs,
      '--lease-name',
      'kubetune-bench',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

async function createStudy(ns: string, name: string, spec: object): Promise<void> {
  await custom.createNamespacedCustomObject({
    ...GROUP,
    namespace: ns,
    plural: 'studies',
    body: { apiVersion: 'kubetune.io/v1alpha1', kind: 'Study', metadata: { name }, spec },
  });
}

async function phaseOf(ns: string, name: string): Promise<string | undefined> {
  const s = (await custom.getNamespacedCustomObject({
    ...GROUP,
    namespace: ns,
    plural: 'studies',
    name,
  })) as {
    status?: { phase?: string };
  };
  return s.status?.phase;
}

async function leaseHolder(ns: string): Promise<{ holder?: string; transitions: number }> {
  try {
    const l = await coordination.readNamespacedLease({ namespace: ns, name: 'kubetune-bench' });
    return { holder: l.spec?.holderIdentity, transitions: l.spec?.leaseTransitions ?? 0 };
  } catch {
    return { transitions: 0 };
  }
}

interface Measured {
  firstJobMs: number;
  refillMs: number[];
}

/** Creates the normal study in `ns` and times its Jobs until it ends. */
async function measureNormal(ns: string): Promise<Measured> {
  const added: number[] = [];
  const completed: number[] = [];
  const seen = new Set<string>();
  const req = await new Watch(kc).watch(
    `/apis/batch/v1/namespaces/${ns}/jobs`,
    {},
    (type, job: V1Job) => {
      const now = performance.now();
      if (type === 'ADDED') added.push(now);
      const done = job.status?.conditions?.some(
        (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
      );
      if (done && !seen.has(job.metadata!.name!)) {
        seen.add(job.metadata!.name!);
        completed.push(now);
      }
    },
    () => {},
  );
  const t0 = performance.now();
  await createStudy(ns, 'normal', normalSpec);
  for (;;) {
    const phase = await phaseOf(ns, 'normal');
    if (phase === 'Succeeded' || phase === 'Failed') break;
    await sleep(200);
  }
  req.abort();
  const refillMs: number[] = [];
  const pending = [...added].sort((a, b) => a - b).slice(normalSpec.parallelism);
  for (const c of [...completed].sort((a, b) => a - b)) {
    const i = pending.findIndex((a) => a >= c);
    if (i < 0) break;
    refillMs.push(pending[i]! - c);
    pending.splice(i, 1);
  }
  return { firstJobMs: (added[0] ?? NaN) - t0, refillMs };
}

async function stop(op: ChildProcess): Promise<void> {
  if (op.exitCode !== null) return;
  const exited = new Promise((r) => op.once('exit', r));
  op.kill('SIGTERM');
  await exited;
}

async function baselineRun(): Promise<Measured> {
  const ns = await namespace('bench-iso-base');
  const op = startOperator([ns], ns);
  await sleep(2000); // leader elected and informers synced before the clock starts
  try {
    return await measureNormal(ns);
  } finally {
    await stop(op);
    await core.deleteNamespace({ name: ns });
  }
}

async function hostileRun(heavyNs: string): Promise<Measured & { transitions: number; timeouts: number }> {
  const ns = await namespace('bench-iso-next');
  const op = startOperator([heavyNs, ns], ns);
  await sleep(2000);
  const before = await leaseHolder(ns);
  try {
    await createStudy(heavyNs, 'heavy', heavySpec);
    // The heavy study is fitting its first model (or has) before the normal one arrives.
    await sleep(1000);
    const m = await measureNormal(ns);
    const after = await leaseHolder(ns);
    const events = await core.listNamespacedEvent({ namespace: heavyNs });
    return {
      ...m,
      transitions: after.holder === before.holder ? after.transitions - before.transitions : -1,
      timeouts: events.items.filter((e) => e.reason === 'SuggestionTimeout').length,
    };
  } finally {
    await stop(op);
    await custom.deleteNamespacedCustomObject({
      ...GROUP,
      namespace: heavyNs,
      plural: 'studies',
      name: 'heavy',
    });
    await core.deleteNamespace({ name: ns });
  }
}

console.log(mainThreadTable());

const heavyNs = await namespace('bench-iso-heavy');
const seeding = performance.now();
await seedFinishedTrials(kc, heavyNs, 'heavy', StudySpec.parse(heavySpec), HISTORY);
console.log(`seeded ${HISTORY} finished trials in ${((performance.now() - seeding) / 1000).toFixed(0)} s`);

const base: Measured[] = [];
const hostile: (Measured & { transitions: number; timeouts: number })[] = [];
for (let r = 0; r < RUNS; r++) {
  base.push(await baselineRun());
  hostile.push(await hostileRun(heavyNs));
  const b = base.at(-1)!;
  const h = hostile.at(-1)!;
  console.log(
    `run ${r + 1}: first Job ${b.firstJobMs.toFixed(0)} → ${h.firstJobMs.toFixed(0)} ms, refill median ${median(b.refillMs).toFixed(0)} → ${median(h.refillMs).toFixed(0)} ms, lease transitions ${h.transitions}, SuggestionTimeout events so far ${h.timeouts}`,
  );
}
await core.deleteNamespace({ name: heavyNs });

const firstBase = median(base.map((m) => m.firstJobMs));
const firstHostile = median(hostile.map((m) => m.firstJobMs));
const refillBase = base.flatMap((m) => m.refillMs);
const refillHostile = hostile.flatMap((m) => m.refillMs);
const row = (name: string, b: number, h: number, target: string) =>
  `| ${name} | ${b.toFixed(0)} ms | ${h.toFixed(0)} ms | ${(h / b).toFixed(2)} | ${target} |`;
console.log(
  `\nnormal study: ${TRIALS} trials, parallelism 2, ${RUNS} runs; heavy study: bayesian, ${HISTORY} finished trials, fitObservations 200, maxObservations 500, nCandidates 5000, localSteps 200`,
);
console.log('| metric (normal study) | alone | next to the heavy study | ratio | target |');
console.log('|---|---|---|---|---|');
console.log(row('apply → first Job, median of runs', firstBase, firstHostile, 'delay < 1000 ms'));
console.log(row('slot refill, median', median(refillBase), median(refillHostile), '< 1000 ms'));
console.log(row('slot refill, p95', quantile(refillBase, 0.95), quantile(refillHostile, 0.95), ''));
console.log(
  `| first Job delay caused by the heavy study | | ${(firstHostile - firstBase).toFixed(0)} ms | | < 1000 ms |`,
);
console.log(
  `| lease transitions during the runs | | ${hostile.map((h) => h.transitions).join(', ')} | | 0 |`,
);
process.exit(0);
