// npm run bench:failover — how long the operator is without a leader when the leader dies
// (SIGKILL: the standby must wait for the lease to expire) and when it is stopped (SIGTERM: the
// lease is released, so the standby takes over at once). The integration tests assert who leads
// and that no trial is lost; the times are measured here, where they can be compared with the
// lease settings instead of failing a busy CI machine.
// Flags: --runs 5 --lease 15 --renew 10 --retry 2 (the operator's defaults)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { clients, repoRoot, uniqueName, waitFor } from '../../test/integration/support/cluster.js';
import { applyCrds, startOperator, type OperatorProcess } from '../../test/integration/support/operator.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    lease: { type: 'string', default: '15' },
    renew: { type: 'string', default: '10' },
    retry: { type: 'string', default: '2' },
  },
});
const RUNS = Number(values.runs);
const LEASE_NAME = 'kubetune-failover';

const up = spawnSync('bash', [join(repoRoot, 'test/cluster/up')], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
if (up.status !== 0) throw new Error('test/cluster/up failed');
const c = clients();
const leases = c.kc.makeApiClient(CoordinationV1Api);
await applyCrds();

const holder = async (ns: string) =>
  (await leases.readNamespacedLease({ namespace: ns, name: LEASE_NAME }).catch(() => undefined))?.spec
    ?.holderIdentity ?? undefined;

function replica(ns: string): OperatorProcess {
  return startOperator([
    '--namespaces',
    ns,
    '--leader-elect',
    '--lease-namespace',
    ns,
    '--lease-name',
    LEASE_NAME,
    '--lease-duration-seconds',
    values.lease!,
    '--renew-deadline-seconds',
    values.renew!,
    '--retry-period-seconds',
    values.retry!,
  ]);
}

/** Starts a standby and waits until it has seen the current leader, as in a running deployment. */
async function standby(ns: string): Promise<OperatorProcess> {
  const op = replica(ns);
  await waitFor(
    () => /observed leader/.test(op.output()) || undefined,
    60_000,
    'the standby to observe the leader',
    100,
  );
  return op;
}

/** Milliseconds from the signal until a replica other than the victim holds the lease. */
async function handover(ns: string, victim: OperatorProcess, signal: NodeJS.Signals): Promise<number> {
  const was = await holder(ns);
  const sent = performance.now();
  victim.child.kill(signal);
  await waitFor(
    async () => ((await holder(ns)) ?? was) !== was || undefined,
    120_000,
    'a new lease holder',
    50,
  );
  return performance.now() - sent;
}

const killed: number[] = [];
const stopped: number[] = [];
for (let run = 0; run < RUNS; run++) {
  const ns = uniqueName('bench-failover');
  await c.core.createNamespace({ body: { metadata: { name: ns } } });
  const started: OperatorProcess[] = [];
  try {
    const first = replica(ns);
    started.push(first);
    await waitFor(() => holder(ns), 60_000, 'a first leader', 100);
    const second = await standby(ns);
    started.push(second);
    killed.push(await handover(ns, first, 'SIGKILL'));
    const third = await standby(ns);
    started.push(third);
    stopped.push(await handover(ns, second, 'SIGTERM'));
  } finally {
    for (const op of started) await op.kill('SIGKILL');
    await c.core.deleteNamespace({ name: ns });
  }
  process.stderr.write(
    `run ${run + 1}/${RUNS}: killed ${Math.round(killed.at(-1)!)} ms, stopped ${Math.round(stopped.at(-1)!)} ms\n`,
  );
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const lease = Number(values.lease) * 1000;
const retry = Number(values.retry) * 1000;
console.log(
  `\nleader handover, ${RUNS} runs (lease ${values.lease}s, renew ${values.renew}s, retry ${values.retry}s)`,
);
console.log('| leader            | median ms | max ms | bound ms                   |');
console.log('|-------------------|----------:|-------:|----------------------------|');
const row = (what: string, xs: number[], bound: string) =>
  console.log(
    `| ${what.padEnd(17)} | ${String(Math.round(quantile(xs, 0.5))).padStart(9)} | ${String(Math.round(Math.max(...xs))).padStart(6)} | ${bound.padEnd(26)} |`,
  );
row('SIGKILL (expiry)', killed, `${lease + 2 * retry} (lease + 2 retries)`);
row('SIGTERM (release)', stopped, `${1000 + 2 * retry} (1 s + 2 retries)`);
