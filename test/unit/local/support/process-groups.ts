// Helpers for tests that check which trial processes are left: trials run as process groups,
// so "nothing left" means no live process whose process group id is the trial's.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { REPO_ROOT, type CliResult } from '../../../support/run-cli.js';

/** Bound for conditions that hold within moments when the code is right; only a bug reaches it. */
export const BOUND_MS = 60_000;

export function requireProcfs(): void {
  assert.ok(
    existsSync('/proc/self/stat'),
    'these tests read process groups from /proc: run them on Linux (or in a Linux container)',
  );
}

/** Pids of the live (not zombie) processes in process group `pgid`. */
export function liveMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') pids.push(Number(entry));
  }
  return pids;
}

/** The pid of the trial reaper (bin/trial-reaper.js) that kubetune process `pid` started. */
export function reaperOf(pid: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (ppid === pid && cmdline.includes('trial-reaper.js')) return Number(entry);
    } catch {
      // exited while we looked
    }
  }
  return undefined;
}

export async function waitUntil(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + BOUND_MS;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${BOUND_MS} ms waiting until ${what}`);
    await sleep(25);
  }
}

/**
 * A shell trial that starts two sleeps (one in the background, one in the foreground) and then
 * records its process group id (the shell's pid, as the group's leader) in `dir`.
 */
export function groupRecordingScript(dir: string, opts: { ignoreTerm: boolean }): string {
  return [
    opts.ignoreTerm ? `trap '' TERM` : '',
    'sleep 300 &',
    'sleep 300 &',
    `echo $$ > "${dir}/pgid-$KUBETUNE_TRIAL_INDEX.tmp"`,
    `mv "${dir}/pgid-$KUBETUNE_TRIAL_INDEX.tmp" "${dir}/pgid-$KUBETUNE_TRIAL_INDEX"`,
    'wait',
  ]
    .filter(Boolean)
    .join('\n');
}

/** Process group ids the trials recorded in `dir` so far. */
export function recordedGroups(dir: string): number[] {
  return readdirSync(dir)
    .filter((f) => /^pgid-\d+$/.test(f))
    .map((f) => Number(readFileSync(join(dir, f), 'utf8').trim()));
}

/** Cleanup for a failed test: no stray sleeps outlive it. */
export function killGroups(pgids: readonly number[]): void {
  for (const pgid of pgids) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export function shellStudy(
  dir: string,
  spec: Record<string, unknown>,
  script: string,
  params: Record<string, unknown>[] = [{ name: 'x', type: 'double', min: 0, max: 1 }],
): string {
  const manifest = {
    apiVersion: 'kubetune.io/v1alpha1',
    kind: 'Study',
    metadata: { name: 'groups' },
    spec: {
      algorithm: { name: 'random' },
      objective: { metric: 'loss', goal: 'minimize' },
      parameters: params,
      trialTemplate: {
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: 'train',
                  // `sh -c SCRIPT NAME ARGS...`: the parameters are the script's $1, $2, ...
                  command: [
                    'sh',
                    '-c',
                    script,
                    'trial',
                    ...params.map((p) => `\${params.${String(p['name'])}}`),
                  ],
                },
              ],
            },
          },
        },
      },
      ...spec,
    },
  };
  const file = join(dir, 'study.yaml');
  writeFileSync(file, stringify(manifest));
  return file;
}

/** Fails, naming the fix, when dist/ is missing or older than the source it is built from. */
export function requireFreshBuild(): void {
  const stale: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) {
        const rel = relative(join(REPO_ROOT, 'src'), path).replace(/\.ts$/, '.js');
        // The report page's modules are bundled into one file (scripts/build-report-page.mjs).
        const built = join(REPO_ROOT, 'dist', rel.startsWith('report/page/') ? 'report/page.js' : rel);
        if (!existsSync(built) || statSync(built).mtimeMs < statSync(path).mtimeMs) stale.push(rel);
      }
    }
  };
  walk(join(REPO_ROOT, 'src'));
  assert.deepEqual(
    stale,
    [],
    'bin/kubetune.js runs the compiled CLI in dist/, which is missing or older than src/: run `npm run build`',
  );
}

/** `kubetune ARGS` as installed: bin/kubetune.js on the compiled dist/ (see requireFreshBuild). */
export function runBuiltCli(args: string[]): {
  child: ReturnType<typeof spawn>;
  stderr: () => string;
  done: Promise<CliResult & { signal: NodeJS.Signals | null }>;
} {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/kubetune.js'), ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, stderr: () => stderr, done };
}
