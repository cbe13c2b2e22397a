// Runs the Helm CLI for the chart tests. Helm has no Debian package, so test/cluster/build-helm.sh
// builds it from its Go module (once; cached). KUBETUNE_HELM points at another helm 3 binary.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const chartDir = join(repoRoot, 'deploy', 'helm', 'kubetune');

let cached: string | undefined;

/** Path of a helm binary, building it when missing. Throws with what to install, never skips. */
export function helmPath(): string {
  if (cached) return cached;
  const fromEnv = process.env.KUBETUNE_HELM;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`KUBETUNE_HELM=${fromEnv} does not exist`);
    return (cached = fromEnv);
  }
  const script = join(repoRoot, 'test', 'cluster', 'build-helm.sh');
  const res = spawnSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const path = res.stdout.trim().split('\n').pop() ?? '';
  if (res.status !== 0 || !existsSync(path)) {
    throw new Error(
      `helm is needed for the chart tests and ${script} could not build it (exit ${res.status}); ` +
        'install Go 1.26+ (it builds helm.sh/helm/v3 from the Go module proxy) or set KUBETUNE_HELM',
    );
  }
  return (cached = path);
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function helm(args: string[], opts: { timeoutMs?: number } = {}): HelmResult {
  const res = spawnSync(helmPath(), args, {
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 32 * 1024 * 1024,
  });
  if (res.error) throw res.error;
  return { code: res.status ?? 1, stdout: res.stdout, stderr: res.stderr };
}

/** A rendered Kubernetes object, loosely typed: tests read fields by path. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

/** `helm template` of the chart with `--set` style overrides; throws with helm's stderr on failure. */
export function renderChart(
  sets: string[] = [],
  opts: { release?: string; namespace?: string; includeCrds?: boolean } = {},
): K8sObject[] {
  const args = [
    'template',
    opts.release ?? 'kt',
    chartDir,
    '--namespace',
    opts.namespace ?? 'kubetune-system',
  ];
  if (opts.includeCrds) args.push('--include-crds');
  for (const s of sets) args.push('--set', s);
  const res = helm(args);
  if (res.code !== 0) throw new Error(`helm ${args.join(' ')} failed:\n${res.stderr}`);
  return parseAllDocuments(res.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

export function findObject(objs: K8sObject[], kind: string, name?: string, namespace?: string): K8sObject {
  const found = objs.find(
    (o) =>
      o.kind === kind &&
      (name === undefined || o.metadata.name === name) &&
      (namespace === undefined || o.metadata.namespace === namespace),
  );
  if (!found) throw new Error(`no ${kind} ${namespace ?? ''}/${name ?? '*'} in the rendered chart`);
  return found;
}

/** Like helm() but without blocking the event loop, for slow cluster operations (install --wait). */
export function helmAsync(args: string[], opts: { timeoutMs?: number } = {}): Promise<HelmResult> {
  const path = helmPath();
  return new Promise((resolvePromise) => {
    execFile(
      path,
      args,
      { timeout: opts.timeoutMs ?? 300_000, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}
