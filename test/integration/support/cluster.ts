// Access to the real test cluster that `npm run cluster:up` starts (test/cluster/up). Tests
// never mock the API: they talk to kube-apiserver, and pods run as processes on procnode.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiException,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const kubeconfigPath =
  process.env.KUBETUNE_TEST_KUBECONFIG ?? join(repoRoot, '.cluster', 'kubeconfig');
export const kubectlPath = process.env.KUBETUNE_TEST_KUBECTL ?? join(repoRoot, '.cluster', 'bin', 'kubectl');

const howToStart = 'start the test cluster with `npm run cluster:up` (or set KUBETUNE_TEST_KUBECONFIG)';

export function loadKubeConfig(): KubeConfig {
  if (!existsSync(kubeconfigPath)) {
    throw new Error(`no test cluster kubeconfig at ${kubeconfigPath}: ${howToStart}`);
  }
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

export interface Clients {
  kc: KubeConfig;
  core: CoreV1Api;
  batch: BatchV1Api;
  rbac: RbacAuthorizationV1Api;
}

export function clients(): Clients {
  const kc = loadKubeConfig();
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    batch: kc.makeApiClient(BatchV1Api),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls until `check` returns a value other than undefined/false and returns it. Errors from
 * `check` count as "not yet"; the last one is reported on timeout.
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  what: string,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}

/** Something that runs cleanup after a test, e.g. node:test's TestContext. */
export interface AfterHook {
  after(fn: () => Promise<void> | void): void;
}

/**
 * Creates a namespace with a unique name, first checking that the cluster answers so a missing
 * cluster fails with what to run. The namespace is deleted after the test.
 */
export async function createTestNamespace(t: AfterHook, c: Clients, prefix = 'it'): Promise<string> {
  try {
    await c.core.listNode({ limit: 1 });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`test cluster at ${kubeconfigPath} does not answer (${msg}): ${howToStart}`);
  }
  const name = uniqueName(prefix);
  await c.core.createNamespace({ body: { metadata: { name, labels: { 'kubetune.dev/test': 'true' } } } });
  // The serviceaccount controller fills in "default" shortly after; pods that name it wait.
  t.after(async () => {
    try {
      await c.core.deleteNamespace({ name });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  });
  return name;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the cluster's own kubectl against the test cluster. */
export function kubectl(args: string[], opts: { timeoutMs?: number } = {}): Promise<KubectlResult> {
  return new Promise((resolvePromise) => {
    execFile(
      kubectlPath,
      ['--kubeconfig', kubeconfigPath, ...args],
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

export async function readPod(c: Clients, namespace: string, name: string): Promise<V1Pod> {
  return c.core.readNamespacedPod({ namespace, name });
}

/** The pods a Job created, found by the label the Job controller sets. */
export async function jobPods(c: Clients, namespace: string, job: string): Promise<V1Pod[]> {
  const list = await c.core.listNamespacedPod({ namespace, labelSelector: `job-name=${job}` });
  return list.items;
}

/** Whether an OS process exists (signal 0 checks without affecting it). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A TCP port free on every address now (torch's rendezvous store listens on all of them). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}
