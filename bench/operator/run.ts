// npm run bench:operator — apply → first Job latency, slot-refill latency and the operator's
// CPU and memory, for studies of short trials on the real test control plane.
// Flags: --trials 50 --parallelism 4 --runs 3 --algorithm bayesian
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  Watch,
  type V1Job,
} from '@kubernetes/client-node';

const repo = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '50' },
    parallelism: { type: 'string', default: '4' },
    runs: { type: 'string', default: '3' },
    algorithm: { type: 'string', default: 'bayesian' },
  },
});
const TRIALS = Number(values.trials);
const PARALLELISM = Number(values.parallelism);
const RUNS = Number(values.runs);

const up = spawnSync('bash', [join(repo, 'test/cluster/up')], { stdio: ['ignore', 'inherit', 'inherit'] });
if (up.status !== 0) throw new Error('test/cluster/up failed');
const kubeconfig = join(repo, '.cluster/kubeconfig');
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
spawnSync(
  join(repo, '.cluster/bin/kubectl'),
  [
    '--kubeconfig',
    kubeconfig,
    'apply',
    '--server-side',
    '--force-conflicts',
    '-f',
    join(repo, 'deploy/crds'),
  ],
  { stdio: 'inherit' },
);

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))] as number) : NaN;
};
const median = (xs: number[]) => quantile(xs, 0.5);

function procStats(pid: number): { cpuSeconds: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return { cpuSeconds: ticks / 100, rssMiB: Number(rss) / 1024 };
}

interface RunResult {
  firstJobMs: number;
  refillMs: number[];
  cpuSeconds: number;
  peakRssMiB: number;
  wallSeconds: number;
}

async function runOnce(run: number): Promise<RunResult> {
  const ns = `bench-op-${Date.now().toString(36)}-${run}`;
  await core.createNamespace({ body: { metadata: { name: ns } } });
  const operator = spawn(
    process.execPath,
    [
      join(repo, 'dist/main.js'),
      '--kubeconfig',
      kubeconfig,
      '--namespaces',
      ns,
      '--metrics-port',
      '0',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await new Promise((r) => setTimeout(r, 1500)); // informers synced before the clock starts
  const start0 = procStats(operator.pid!);
  let peak = start0.rssMiB;
  const sampler = setInterval(() => (peak = Math.max(peak, procStats(operator.pid!).rssMiB)), 200);

  const added: number[] = [];
  const completed: number[] = [];
  const seenComplete = new Set<string>();
  const watch = new Watch(kc);
  const req = await watch.watch(
    `/apis/batch/v1/namespaces/${ns}/jobs`,
    {},
    (type, job: V1Job) => {
      const now = performance.now();
      if (type === 'ADDED') added.push(now);
      const done = job.status?.conditions?.some(
        (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
      );
      if (done && !seenComplete.has(job.metadata!.name!)) {
        seenComplete.add(job.metadata!.name!);
        completed.push(now);
      }
    },
    () => {},
  );

  const t0 = performance.now();
  await custom.createNamespacedCustomObject({
    group: 'kubetune.io',
    version: 'v1alpha1',
    namespace: ns,
    plural: 'studies',
    body: {
      apiVersion: 'kubetune.io/v1alpha1',
      kind: 'Study',
      metadata: { name: 'bench' },
      spec: {
        objective: { metric: 'loss', goal: 'minimize' },
        algorithm: { name: values.algorithm },
        parameters: [
          { name: 'x', type: 'double', min: 0, max: 1 },
          { name: 'y', type: 'double', min: 0, max: 1 },
        ],
        maxTrials: TRIALS,
        parallelism: PARALLELISM,
        trialTemplate: {
          spec: {
            template: {
              spec: {
                restartPolicy: 'Never',
                containers: [
                  { name: 't', image: 'sh', command: ['sh', '-c', 'echo loss=$0', '${params.x}'] },
                ],
              },
            },
          },
        },
      },
    },
  });
  for (;;) {
    const s = (await custom.getNamespacedCustomObject({
      group: 'kubetune.io',
      version: 'v1alpha1',
      namespace: ns,
      plural: 'studies',
      name: 'bench',
    })) as { status?: { phase?: string } };
    if (s.status?.phase === 'Succeeded' || s.status?.phase === 'Failed') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const end = procStats(operator.pid!);
  req.abort();
  operator.kill('SIGTERM');
  await core.deleteNamespace({ name: ns });

  // Each completion that left trials to run should be followed by one new Job.
  const refillMs: number[] = [];
  const pending = [...added].sort((a, b) => a - b).slice(PARALLELISM);
  for (const c of [...completed].sort((a, b) => a - b)) {
    const i = pending.findIndex((a) => a >= c);
    if (i < 0) break;
    refillMs.push(pending[i]! - c);
    pending.splice(i, 1);
  }
  const jobs = (added[0] ?? NaN) - t0;
  return {
    firstJobMs: jobs,
    refillMs,
    cpuSeconds: end.cpuSeconds - start0.cpuSeconds,
    peakRssMiB: peak,
    wallSeconds,
  };
}

const results: RunResult[] = [];
for (let r = 0; r < RUNS; r++) {
  const res = await runOnce(r);
  results.push(res);
  console.log(
    `run ${r + 1}: first job ${res.firstJobMs.toFixed(0)} ms, refill median ${median(res.refillMs).toFixed(0)} ms p95 ${quantile(res.refillMs, 0.95).toFixed(0)} ms over ${res.refillMs.length} refills, CPU ${res.cpuSeconds.toFixed(1)} s, peak RSS ${res.peakRssMiB.toFixed(0)} MiB, ${res.wallSeconds.toFixed(1)} s`,
  );
}
const all = results.flatMap((r) => r.refillMs);
console.log(`\n${TRIALS} trials × ${RUNS} runs, parallelism ${PARALLELISM}, algorithm ${values.algorithm}`);
console.log('| metric | median over runs | target |');
console.log('|---|---|---|');
console.log(`| apply → first Job | ${median(results.map((r) => r.firstJobMs)).toFixed(0)} ms | < 1000 ms |`);
console.log(`| slot refill, median | ${median(all).toFixed(0)} ms | < 1000 ms |`);
console.log(`| slot refill, p95 | ${quantile(all, 0.95).toFixed(0)} ms | |`);
console.log(`| operator CPU per study | ${median(results.map((r) => r.cpuSeconds)).toFixed(2)} s | |`);
console.log(`| operator peak RSS | ${median(results.map((r) => r.peakRssMiB)).toFixed(0)} MiB | |`);
console.log(`| study wall time | ${median(results.map((r) => r.wallSeconds)).toFixed(1)} s | |`);
process.exit(0);
