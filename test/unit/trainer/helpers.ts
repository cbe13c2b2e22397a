// Shared by the trainer tests: spawn the CLI from source (via tsx, so no build is needed) and
// read its metric lines the way kubetune does.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const TRAINER_DIR = `${REPO_ROOT}trainer-image/`;
const CLI = `${TRAINER_DIR}src/cli.ts`;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runTrainer(
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; onStderr?: (chunk: string) => void; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      opts.onStderr?.(c);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export type Metrics = Record<string, number>;

const METRIC_LINE = /^[A-Za-z_][\w.]*=\S+( [A-Za-z_][\w.]*=\S+)*$/;

/** Every stdout line must be a metric line; returns them parsed. */
export function metricLines(stdout: string): Metrics[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      if (!METRIC_LINE.test(line)) throw new Error(`stdout line is not a metric line: ${line}`);
      return Object.fromEntries(
        line
          .split(' ')
          .map((kv) => kv.split('=') as [string, string])
          .map(([k, v]) => [k, Number(v)]),
      );
    });
}

/** Small and quick: about 1 s per epoch on wasm with 2 cores. */
export const QUICK = ['--backend', 'wasm', '--train-size', '2000', '--val-size', '1000'];

/**
 * Writes a tiny --data-dir dataset: 4x4 "images" whose class (0..3) is the bright row, plus
 * seeded noise. Easy enough that a few epochs separate the classes.
 */
export function writeTinyDataset(dir: string, rows: number, scale = 1): void {
  let state = 12345;
  const rand = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const header = [...Array.from({ length: 16 }, (_, i) => `p${i}`), 'label'];
  const lines = [header.join(',')];
  for (let r = 0; r < rows; r++) {
    const label = r % 4;
    const pixels = Array.from({ length: 16 }, (_, i) =>
      ((Math.floor(i / 4) === label ? 0.7 + 0.3 * rand() : 0.3 * rand()) * scale).toFixed(3),
    );
    lines.push([...pixels, String(label)].join(','));
  }
  writeFileSync(join(dir, 'data.csv'), lines.join('\n') + '\n');
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ shape: [4, 4, 1] }));
}
