// Studies whose trials end when the test says so: each trial waits for a file named after it, so
// tests assert on which trials hold resources, never on how fast anything runs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Job } from '@kubernetes/client-node';
import type { AfterHook } from './cluster.js';

const GPU = 'nvidia.com/gpu';

/** A fresh directory for the gate files, removed after the test. */
export function gateDir(t: AfterHook): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubetune-gate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Lets trial `trial` finish. */
export function openGate(dir: string, trial: string): void {
  writeFileSync(join(dir, trial), '');
}

/** A study whose trials each take 1 GPU and end, printing loss=x, once the file <dir>/<trial> exists. */
export function gatedStudy(dir: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    objective: { metric: 'loss', goal: 'minimize' },
    algorithm: { name: 'random' },
    parameters: [{ name: 'x', type: 'double', min: 0, max: 1 }],
    trialTemplate: {
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: 'Never',
            terminationGracePeriodSeconds: 2,
            containers: [
              {
                name: 'train',
                image: 'kubetune.test/shell',
                args: [`until [ -e ${dir}/\${trial.name} ]; do sleep 0.1; done; echo loss=\${params.x}`],
                resources: { requests: { [GPU]: '1' }, limits: { [GPU]: '1' } },
              },
            ],
          },
        },
      },
    },
    ...extra,
  };
}

export const jobFinished = (j: V1Job): boolean =>
  (j.status?.conditions ?? []).some((c) => ['Complete', 'Failed'].includes(c.type) && c.status === 'True');
