import type { Assignment } from '../../../src/api/parameter.js';
import type { AlgorithmName } from '../../../src/api/study.js';
import { createStudy } from '../../../src/engine/ask-tell.js';

export const mixedParameters = [
  { name: 'lr', type: 'double' as const, min: 1e-5, max: 0.1, log: true },
  { name: 'layers', type: 'int' as const, min: 1, max: 6 },
  { name: 'dropout', type: 'double' as const, min: 0, max: 0.6, step: 0.05 },
  { name: 'optimizer', type: 'categorical' as const, values: ['sgd', 'adam', 'rmsprop'] },
];

/** A smooth toy objective on the mixed space, minimum near lr=1e-3, layers=3, dropout=0.2, adam. */
export function mixedObjective(p: Assignment): number {
  const lr = Math.log10(p['lr'] as number) + 3;
  const layers = (p['layers'] as number) - 3;
  const dropout = (p['dropout'] as number) - 0.2;
  const opt = p['optimizer'] === 'adam' ? 0 : p['optimizer'] === 'rmsprop' ? 0.3 : 0.8;
  return lr * lr + 0.1 * layers * layers + 4 * dropout * dropout + opt;
}

export function inSpace(p: Assignment): boolean {
  const lr = p['lr'] as number;
  const layers = p['layers'] as number;
  const dropout = p['dropout'] as number;
  return (
    lr >= 1e-5 &&
    lr <= 0.1 &&
    Number.isInteger(layers) &&
    layers >= 1 &&
    layers <= 6 &&
    [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6].includes(dropout) &&
    ['sgd', 'adam', 'rmsprop'].includes(p['optimizer'] as string)
  );
}

/** Runs a sequential study; `fail` marks trials as failed instead of telling a value. */
export async function runStudy(
  name: AlgorithmName,
  seed: number,
  n: number,
  opts: {
    settings?: Record<string, unknown>;
    parameters?: Parameters<typeof createStudy>[0]['parameters'];
    f?: (p: Assignment) => number;
    fail?: (i: number) => boolean;
    batch?: number;
  } = {},
) {
  const study = createStudy({
    parameters: opts.parameters ?? mixedParameters,
    objective: { metric: 'loss', goal: 'minimize' },
    algorithm: { name, settings: opts.settings ?? {} },
    seed,
    maxTrials: n,
    maxFailedTrials: n,
  });
  const f = opts.f ?? mixedObjective;
  const asked: Assignment[] = [];
  for (let i = 0; i < n;) {
    const ts = await study.ask(Math.min(opts.batch ?? 1, n - i));
    for (const t of ts) {
      asked.push(t.params);
      if (opts.fail?.(i)) study.tell(t.id, { state: 'failed' });
      else study.tell(t.id, f(t.params));
      i++;
    }
  }
  return { study, asked };
}
