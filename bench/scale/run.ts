// npm run bench:scale — one operator driving many Studies at once on the real test control plane
// (issue #13): API requests per completed trial, LISTs caused by finished Studies, operator CPU
// and peak RSS, etcd growth, slot-refill latency and apply -> first Job latency under load.
//
// It starts its own cluster in this checkout's .cluster/ through test/cluster/up (reusing a
// healthy one, as bench:operator does) and never uses KUBETUNE_TEST_KUBECONFIG: the apiserver's
// and etcd's counters are cluster-wide, so another engineer's tests would be counted as the
// operator's cost. The operator is the built dist/ (the npm script builds first), watching all
// namespaces, with bench/scale/count-requests.mjs preloaded to count its own requests.
//
// Flags: --studies 50 --trials-per-study 20 --running 200 (parallelism = running / studies)
//        --trial-seconds 20 --extra-studies 3 --idle-seconds 60 --timeout-seconds 720
//        --workers 16 --algorithm random --json FILE
// A quick smoke run: --studies 5 --trials-per-study 4 --running 10 --idle-seconds 5
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import {
  kubeconfig,
  repo,
  kubectl,
  scrape,
  startCluster,
  startOperator,
  studyBody,
  type Operator,
  type Snapshot,
} from './harness.js';
import { Observer } from './observe.js';
import { buildResult, printReport, type Phase } from './report.js';
import type { Counters } from './stats.js';

const { values } = parseArgs({
  options: {
    studies: { type: 'string', default: '50' },
    'trials-per-study': { type: 'string', default: '20' },
    running: { type: 'string', default: '200' },
    'trial-seconds': { type: 'string', default: '20' },
    'extra-studies': { type: 'string', default: '3' },
    'idle-seconds': { type: 'string', default: '60' },
    'timeout-seconds': { type: 'string', default: '720' },
    workers: { type: 'string', default: '16' },
    algorithm: { type: 'string', default: 'random' },
    json: { type: 'string' },
  },
});
const num = (flag: keyof typeof values, min: number): number => {
  const n = Number(values[flag]);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`--${flag} must be a whole number >= ${min}, got ${values[flag]}`);
  return n;
};
const config = {
  studies: num('studies', 1),
  trialsPerStudy: num('trials-per-study', 1),
  running: num('running', 1),
  trialSeconds: num('trial-seconds', 1),
  extraStudies: num('extra-studies', 0),
  idleSeconds: num('idle-seconds', 0),
  timeoutSeconds: num('timeout-seconds', 1),
  workers: num('workers', 1),
  algorithm: values.algorithm as string,
};
const shape = {
  algorithm: config.algorithm,
  parallelism: Math.ceil(config.running / config.studies),
  trialSeconds: config.trialSeconds,
};
// Each extra Study runs two trials at once: enough to see its first Job, little extra load.
const EXTRA_TRIALS = 2;
const SETTLE_MS = 5000;
const LOAD_WAIT_MS = 120_000;
const BENCH_LABEL = 'kubetune.io/bench=scale';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Leftovers of an interrupted run are removed; any other Study would be counted as ours, so it stops the bench. */
function prepareNamespace(): string {
  kubectl('delete', 'namespace', '-l', BENCH_LABEL, '--wait=true', '--timeout=120s');
  const others = kubectl('get', 'studies', '--all-namespaces', '-o', 'name').trim();
  if (others) {
    throw new Error(
      `the bench cluster has Studies it did not create (${others.split('\n').length}); delete them or run test/cluster/down`,
    );
  }
  const ns = `scale-${Date.now().toString(36)}`;
  kubectl('create', 'namespace', ns);
  kubectl('label', 'namespace', ns, BENCH_LABEL);
  return ns;
}

async function createStudies(
  api: CustomObjectsApi,
  ns: string,
  names: string[],
  maxTrials: number,
  parallelism: number,
) {
  const created = new Map<string, number>();
  for (let i = 0; i < names.length; i += 10) {
    await Promise.all(
      names.slice(i, i + 10).map(async (name) => {
        const at = performance.now();
        const body = studyBody(name, maxTrials, { ...shape, parallelism });
        await api.createNamespacedCustomObject({
          group: 'kubetune.io',
          version: 'v1alpha1',
          namespace: ns,
          plural: 'studies',
          body,
        });
        created.set(name, at);
      }),
    );
  }
  return created;
}

async function until(check: () => boolean, deadline: number): Promise<boolean> {
  while (!check()) {
    if (performance.now() >= deadline) return false;
    await sleep(250);
  }
  return true;
}

async function phase(etcdPort: string, op: Operator): Promise<Phase> {
  const [snap, ops]: [Snapshot, Counters] = [await scrape(etcdPort), await op.counts()];
  return { snap, operatorRequests: ops, proc: op.proc(), memoryAtPeak: op.memoryAtPeak() };
}

function checkoutCommit(): string {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: repo, encoding: 'utf8' }).stdout.trim();
  return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? '+dirty' : ''}`;
}

async function main(): Promise<void> {
  const load = [loadavg()[0]!];
  const { etcdPort } = startCluster();
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const api = kc.makeApiClient(CustomObjectsApi);
  const ns = prepareNamespace();
  const observer = new Observer(kc, ns);
  await observer.start();
  const op = startOperator(config.workers);
  await sleep(3000); // the operator's informers have synced before anything is counted
  const deadline = performance.now() + config.timeoutSeconds * 1000;
  try {
    const start = await phase(etcdPort, op);
    const names = Array.from({ length: config.studies }, (_, i) => `s-${String(i).padStart(3, '0')}`);
    await createStudies(api, ns, names, config.trialsPerStudy, shape.parallelism);
    // Extras go in once --running pods run, or after LOAD_WAIT_MS at whatever load was reached.
    const loadDeadline = Math.min(deadline, performance.now() + LOAD_WAIT_MS);
    const loaded = await until(() => observer.runningPods.size >= config.running, loadDeadline);
    const runningAtApply = observer.runningPods.size;
    const extras = Array.from({ length: config.extraStudies }, (_, i) => `x-${i}`);
    const extraApplied = await createStudies(api, ns, extras, EXTRA_TRIALS, EXTRA_TRIALS);
    const all = names.length + extras.length;
    const finished = await until(() => observer.studiesFinished.size >= all, deadline);
    load.push(loadavg()[0]!);
    const end = await phase(etcdPort, op);
    // The last studies' final status writes and the reconciles they trigger are not idle cost.
    await sleep(SETTLE_MS);
    const idleStart = await phase(etcdPort, op);
    await sleep(config.idleSeconds * 1000);
    const idle = await phase(etcdPort, op);
    const result = buildResult({
      commit: checkoutCommit(),
      config: { ...config, parallelism: shape.parallelism, nproc: cpus().length },
      load,
      observer,
      mainStudies: names,
      extraApplied,
      runningAtApply,
      reachedRunning: loaded,
      finished,
      phases: { start, end, idleStart, idle },
    });
    printReport(result);
    if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    observer.stop();
    op.child.kill('SIGTERM');
    kubectl('delete', 'namespace', ns, '--wait=false');
  }
}

await main();
process.exit(0);
