// The moving parts of `npm run bench:scale` (see run.ts): its cluster, the apiserver's and etcd's
// counters, the operator child process with its request counter, and the light trial Study.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiserverKey, classifyRequest, counterTotals, firstGauge, type Counters } from './stats.js';

export const repo = join(import.meta.dirname, '..', '..');
// Room for every bench pod at once: pods stay on the node until their Job is deleted.
const PODS_PER_NODE = 1500;

export interface Snapshot {
  at: number;
  /** apiserver_request_total by "VERB resource[/subresource]", resource requests only. */
  requests: Counters;
  /** etcd's database file, a high-water mark: pages freed by an earlier run are reused first. */
  etcdBytes: number;
  /** What etcd actually holds, so growth shows even in a reused cluster. */
  etcdInUseBytes: number;
}

const state = join(repo, '.cluster');
export const kubeconfig = join(state, 'kubeconfig');
export const kubectl = (...args: string[]) => {
  const res = spawnSync(join(state, 'bin/kubectl'), ['--kubeconfig', kubeconfig, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (res.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
};

export function startCluster(): { etcdPort: string } {
  const up = spawnSync('bash', [join(repo, 'test/cluster/up')], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, KUBETUNE_PODS_PER_NODE: String(PODS_PER_NODE) },
  });
  if (up.status !== 0) throw new Error('test/cluster/up failed (see its output above)');
  kubectl('apply', '--server-side', '--force-conflicts', '-f', join(repo, 'deploy/crds'));
  kubectl(
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/studies.kubetune.io',
    'crd/trials.kubetune.io',
  );
  const env = readFileSync(join(state, 'cluster.env'), 'utf8');
  const etcdPort = /^ETCD_PORT=(\d+)$/m.exec(env)?.[1];
  if (!etcdPort) throw new Error(`no ETCD_PORT in ${join(state, 'cluster.env')}`);
  return { etcdPort };
}

export async function scrape(etcdPort: string): Promise<Snapshot> {
  const api = kubectl('get', '--raw', '/metrics');
  const etcd = await (await fetch(`http://127.0.0.1:${etcdPort}/metrics`)).text();
  const requests: Counters = new Map();
  for (const [key, v] of counterTotals(api, 'apiserver_request_total', ['verb', 'resource', 'subresource'])) {
    const [verb = '', resource = '', subresource = ''] = key.split(' ');
    // Non-resource requests (/metrics, /healthz, discovery) are the bench's and the components' own.
    if (resource) requests.set(apiserverKey({ verb, resource, subresource }), v);
  }
  const etcdBytes = firstGauge(etcd, [
    'etcd_mvcc_db_total_size_in_bytes',
    'etcd_debugging_mvcc_db_total_size_in_bytes',
  ]);
  const etcdInUseBytes = firstGauge(etcd, ['etcd_mvcc_db_total_size_in_use_in_bytes']);
  return {
    at: performance.now(),
    requests,
    etcdBytes: etcdBytes ?? NaN,
    etcdInUseBytes: etcdInUseBytes ?? NaN,
  };
}

/** process.memoryUsage() in MiB when the operator's RSS peaked, from count-requests.mjs. */
export type MemoryAtPeak = Record<string, number> & { spacesUsed: Record<string, number> };

export interface Operator {
  child: ChildProcess;
  counts(): Promise<Counters>;
  /** As of the last counts() answer. */
  memoryAtPeak(): MemoryAtPeak | undefined;
  proc(): { cpuSeconds: number; hwmMiB: number };
}

/** The Node.js flags the Helm chart gives the operator (its nodeOptions value), so the bench measures what is deployed. */
function chartNodeOptions(): string[] {
  const values = readFileSync(join(repo, 'deploy/helm/kubetune/values.yaml'), 'utf8');
  return /^nodeOptions:[ \t]*(.*)$/m.exec(values)?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
}

export function startOperator(workers: number): Operator {
  const child = spawn(
    process.execPath,
    [
      ...chartNodeOptions(),
      '--import',
      join(import.meta.dirname, 'count-requests.mjs'),
      join(repo, 'dist/main.js'),
      ...['--kubeconfig', kubeconfig, '--metrics-port', '0', '--log-level', 'warn'],
      ...['--workers', String(workers)],
    ],
    { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
  );
  const pid = child.pid!;
  let memory: MemoryAtPeak | undefined;
  return {
    memoryAtPeak: () => memory,
    child,
    counts: () =>
      new Promise((resolve) => {
        child.once('message', (m) => {
          const msg = m as { counts: Record<string, number>; memory?: MemoryAtPeak };
          memory = msg.memory;
          const out: Counters = new Map();
          for (const [raw, n] of Object.entries(msg.counts)) {
            const [method = '', path = ''] = raw.split(' ');
            const key = classifyRequest(method, path);
            out.set(key, (out.get(key) ?? 0) + n);
          }
          resolve(out);
        });
        child.send('kubetune-bench:counts');
      }),
    proc: () => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      return { cpuSeconds: (Number(stat[11]) + Number(stat[12])) / 100, hwmMiB: Number(hwm) / 1024 };
    },
  };
}

export interface TrialShape {
  algorithm: string;
  parallelism: number;
  trialSeconds: number;
}

/** A Study of light trials: a shell loop printing one metric line per second, no resource requests. */
export function studyBody(name: string, maxTrials: number, t: TrialShape): Record<string, unknown> {
  // No $(...) in the script: procnode expands $(VAR) in args as Kubernetes does.
  const steps = Array.from({ length: t.trialSeconds }, (_, i) => i + 1).join(' ');
  const loop = `for i in ${steps}; do echo "step=$i loss=\${params.x}"; sleep 1; done`;
  return {
    apiVersion: 'kubetune.io/v1alpha1',
    kind: 'Study',
    metadata: { name },
    spec: {
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: { name: t.algorithm },
      parameters: [{ name: 'x', type: 'double', min: 0, max: 1 }],
      maxTrials,
      parallelism: t.parallelism,
      trialTemplate: {
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              terminationGracePeriodSeconds: 1,
              containers: [{ name: 't', image: 'kubetune.test/shell', args: [loop] }],
            },
          },
        },
      },
    },
  };
}
