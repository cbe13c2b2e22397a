// The test cluster runs Jobs for real: the Job controller creates pods, procnode runs them as
// processes, and their logs stream back through the apiserver.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { Log } from '@kubernetes/client-node';
import type { LogOptions, V1Job, V1JobCondition } from '@kubernetes/client-node';
import {
  clients,
  createTestNamespace,
  isNotFound,
  jobPods,
  processAlive,
  readPod,
  uniqueName,
  waitFor,
} from './support/cluster.js';

const c = clients();

function shellJob(name: string, script: string, backoffLimit = 0): V1Job {
  return {
    metadata: { name },
    spec: {
      backoffLimit,
      template: {
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 5,
          containers: [
            { name: 'main', image: 'docker.io/library/busybox:1.36', command: ['sh', '-c', script] },
          ],
        },
      },
    },
  };
}

async function jobCondition(
  namespace: string,
  name: string,
  type: string,
): Promise<V1JobCondition | undefined> {
  const job = await c.batch.readNamespacedJob({ namespace, name });
  return job.status?.conditions?.find((cond) => cond.type === type && cond.status === 'True');
}

/** One non-follow read through client-node's Log, for the options readNamespacedPodLog lacks. */
async function readLogOnce(ns: string, pod: string, options: LogOptions): Promise<string> {
  let out = '';
  await new Promise<void>((resolveDone, rejectDone) => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        out += chunk.toString('utf8');
        cb();
      },
    });
    sink.on('finish', resolveDone);
    new Log(c.kc).log(ns, pod, 'main', sink, options).catch(rejectDone);
  });
  return out;
}

const timestamped = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (.*)$/;

test('a Job whose pod exits 0 completes, and its logs stream through the apiserver while it runs', async (t) => {
  const ns = await createTestNamespace(t, c);
  const name = uniqueName('hello');
  // Each line after the first waits for a gate file that this test creates only once it has
  // received the line before, so lines can only arrive here while the pod is still running, and
  // in order (stdout and stderr are separate pipes), however slow the machine is.
  const gates = mkdtempSync(join(tmpdir(), 'kubetune-log-gates-'));
  t.after(() => rmSync(gates, { recursive: true, force: true }));
  const waitGate = (n: number) => `while [ ! -e ${gates}/${n} ]; do sleep 0.05; done`;
  await c.batch.createNamespacedJob({
    namespace: ns,
    body: shellJob(
      name,
      `echo first line; ${waitGate(1)}; echo to stderr >&2; ${waitGate(2)}; echo second line`,
    ),
  });

  const pod = await waitFor(
    async () => (await jobPods(c, ns, name)).find((p) => p.status?.phase === 'Running'),
    30_000,
    'the Job pod to run',
  );
  const podName = pod.metadata!.name!;

  // Follow with timestamps; open the next gate as each line arrives, and note when it opened.
  const lines: string[] = [];
  const openedAt: number[] = [];
  let buffered = '';
  const openGate = (n: number) => {
    openedAt[n - 1] = Date.now();
    writeFileSync(join(gates, String(n)), '');
  };
  const ended = new Promise<void>((resolveEnded, rejectEnded) => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        buffered += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          lines.push(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
          // The second gate opens in the next whole second: the apiserver passes sinceTime on
          // with whole seconds, and the read below must tell the last line from the others.
          if (lines.length === 1) openGate(1);
          if (lines.length === 2) setTimeout(() => openGate(2), 1000 - (Date.now() % 1000));
        }
        cb();
      },
    });
    sink.on('finish', resolveEnded);
    sink.on('error', rejectEnded);
    new Log(c.kc).log(ns, podName, 'main', sink, { follow: true, timestamps: true }).catch(rejectEnded);
  });
  await Promise.race([
    ended,
    new Promise((_, reject) => setTimeout(() => reject(new Error('log follow did not end')), 60_000)),
  ]);

  const parsed = lines.map((line) => {
    const m = timestamped.exec(line);
    assert.ok(m, `log line without an RFC3339 timestamp: ${JSON.stringify(line)}`);
    return { ts: Date.parse(m[1]!), text: m[2]! };
  });
  assert.deepEqual(
    parsed.map((p) => p.text),
    ['first line', 'to stderr', 'second line'],
  );
  // The timestamps record when each line was written: after the gate it waited for opened (the
  // node and this test share one clock; both are truncated to whole milliseconds).
  assert.ok(parsed[0]!.ts <= openedAt[0]!, 'the first line is stamped before it reached the test');
  assert.ok(parsed[1]!.ts >= openedAt[0]!, 'the stderr line is stamped after its gate opened');
  assert.ok(parsed[2]!.ts >= openedAt[1]!, 'the second line is stamped after its gate opened');

  await waitFor(() => jobCondition(ns, name, 'Complete'), 30_000, 'the Job to complete');
  const done = await readPod(c, ns, podName);
  assert.equal(done.status?.phase, 'Succeeded');
  const term = done.status?.containerStatuses?.[0]?.state?.terminated;
  assert.equal(term?.exitCode, 0);
  assert.equal(term?.reason, 'Completed');
  assert.ok(term?.startedAt && term.finishedAt, 'terminated state has start and finish times');

  // Plain reads after the fact: the whole log, and the options the kubelet API supports.
  const all = await c.core.readNamespacedPodLog({ namespace: ns, name: podName, container: 'main' });
  assert.equal(all, 'first line\nto stderr\nsecond line\n');
  const tail = await c.core.readNamespacedPodLog({
    namespace: ns,
    name: podName,
    container: 'main',
    tailLines: 1,
  });
  assert.equal(tail, 'second line\n');
  const recent = await readLogOnce(ns, podName, { sinceTime: new Date(parsed[2]!.ts).toISOString() });
  assert.equal(recent, 'second line\n');
  const limited = await c.core.readNamespacedPodLog({ namespace: ns, name: podName, limitBytes: 5 });
  assert.equal(limited, 'first');
});

test('a pod that exits 3 fails its Job once the backoffLimit is used up', async (t) => {
  const ns = await createTestNamespace(t, c);
  const name = uniqueName('fails');
  await c.batch.createNamespacedJob({ namespace: ns, body: shellJob(name, 'echo failing; exit 3', 1) });

  const failed = await waitFor(() => jobCondition(ns, name, 'Failed'), 90_000, 'the Job to fail');
  assert.equal(failed.reason, 'BackoffLimitExceeded');
  const pods = await jobPods(c, ns, name);
  assert.equal(pods.length, 2, 'backoffLimit 1 allows one retry');
  for (const p of pods) {
    assert.equal(p.status?.phase, 'Failed');
    const term = p.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(term?.exitCode, 3);
    assert.equal(term?.reason, 'Error');
  }
  const job = await c.batch.readNamespacedJob({ namespace: ns, name });
  assert.equal(job.status?.failed, 2);
});

test('deleting a Job garbage-collects its pods and kills their process groups', async (t) => {
  const ns = await createTestNamespace(t, c);
  const dir = mkdtempSync(join(tmpdir(), 'kubetune-it-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const name = uniqueName('sleeper');
  // The shell records its own PID and that of a child it forks; both must die with the pod.
  // Kubernetes expands $$ in a command to $, so $$$$ reaches the shell as $$.
  await c.batch.createNamespacedJob({
    namespace: ns,
    body: shellJob(name, `sleep 600 & echo $! > ${dir}/child.pid; echo $$$$ > ${dir}/shell.pid; wait`),
  });

  const pids = await waitFor(
    () => {
      const read = (f: string) => Number(readFileSync(join(dir, f), 'utf8').trim());
      const shell = read('shell.pid');
      const child = read('child.pid');
      return shell > 0 && child > 0 ? { shell, child } : undefined;
    },
    30_000,
    'the pod to record its PIDs',
  );
  assert.ok(processAlive(pids.shell), 'pod shell runs');
  assert.ok(processAlive(pids.child), 'pod child process runs');
  assert.equal((await jobPods(c, ns, name)).length, 1);

  await c.batch.deleteNamespacedJob({ namespace: ns, name, propagationPolicy: 'Foreground' });
  await waitFor(
    async () => {
      try {
        await c.batch.readNamespacedJob({ namespace: ns, name });
        return false;
      } catch (err) {
        return isNotFound(err);
      }
    },
    60_000,
    'the Job to be deleted',
  );
  assert.equal((await jobPods(c, ns, name)).length, 0, 'pods are gone with the Job');
  await waitFor(
    () => !processAlive(pids.shell) && !processAlive(pids.child),
    15_000,
    'the processes to exit',
  );
});
