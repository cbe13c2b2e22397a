// A real Prometheus server for integration tests: Debian's `prometheus` binary in a fresh
// temporary directory, on a free loopback port, scraping only the targets a test writes to its
// file-based service discovery. Nothing remote: no remote write, no alerting.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { LABEL_STUDY, LABEL_TRIAL } from '../../../src/operator/kube/resources.js';
import { freePort, waitFor } from './cluster.js';

export const prometheusPath = process.env.KUBETUNE_TEST_PROMETHEUS ?? 'prometheus';

const howToInstall =
  'install Prometheus (Debian: apt-get install prometheus; `npm test` does so when run as root) ' +
  'or point KUBETUNE_TEST_PROMETHEUS at its binary';

/** One file_sd group: scrape addresses and the labels Prometheus attaches to their series. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

export interface PrometheusServer {
  /** Base URL of the HTTP API, for `metrics.prometheus.url`. */
  url: string;
  /** Replaces the scraped targets; Prometheus picks the file up on its own. */
  writeTargets(groups: TargetGroup[]): void;
  /** The server's log so far, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

function version(): string {
  const res = spawnSync(prometheusPath, ['--version'], { encoding: 'utf8' });
  if (res.error) throw new Error(`cannot run ${prometheusPath} (${res.error.message}): ${howToInstall}`);
  return (res.stdout + res.stderr).split('\n')[0] ?? '';
}

function config(targetsFile: string): string {
  // JSON is YAML; scrape_timeout must not exceed the 1 s interval.
  return JSON.stringify({
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    scrape_configs: [
      {
        job_name: 'kubetune-trials',
        file_sd_configs: [{ files: [targetsFile], refresh_interval: '1s' }],
      },
    ],
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  // Prometheus flushes its head block on SIGTERM; a hung shutdown must not hang the suite.
  const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(kill);
}

/** Starts Prometheus and waits until it is ready; a port taken meanwhile gets another try. */
export async function startPrometheus(): Promise<PrometheusServer> {
  const release = version();
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await launch(await freePort());
    } catch (err) {
      lastError = err as Error;
    }
  }
  throw new Error(`${release} did not start: ${lastError?.message}`);
}

async function launch(port: number): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kubetune-prometheus-'));
  const targetsFile = join(dir, 'targets.json');
  writeFileSync(targetsFile, '[]');
  writeFileSync(join(dir, 'prometheus.yml'), config(targetsFile));
  const child = spawn(
    prometheusPath,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const append = (d: Buffer) => (log = (log + d.toString()).slice(-64 * 1024));
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
        return (await fetch(`${url}/-/ready`)).ok;
      },
      60_000,
      `Prometheus at ${url} to be ready`,
    );
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\nprometheus log (tail):\n${log.slice(-4000)}`);
  }
  let written = '[]';
  return {
    url,
    writeTargets(groups) {
      const text = JSON.stringify(groups);
      if (text === written) return;
      // Written aside and renamed, so Prometheus never reads a half-written file.
      writeFileSync(`${targetsFile}.tmp`, text);
      renameSync(`${targetsFile}.tmp`, targetsFile);
      written = text;
    },
    output: () => log,
    stop,
  };
}

/** A running pod with an address that is not being deleted. */
export function isLive(pod: V1Pod): boolean {
  return !!pod.status?.podIP && !pod.metadata?.deletionTimestamp && pod.status.phase === 'Running';
}

/**
 * Scrape targets for a study's live pods (`podIP:port`), labelled like the series the operator's
 * default query expects (`trial`) and with `namespace` and `study` for queries that name them.
 */
export function trialTargets(pods: V1Pod[], port: number): TargetGroup[] {
  return pods.filter(isLive).map((p) => ({
    targets: [`${p.status?.podIP}:${port}`],
    labels: {
      namespace: p.metadata?.namespace ?? '',
      study: p.metadata?.labels?.[LABEL_STUDY] ?? '',
      trial: p.metadata?.labels?.[LABEL_TRIAL] ?? '',
    },
  }));
}
