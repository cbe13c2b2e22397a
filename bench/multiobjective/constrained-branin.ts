import type { AlgorithmName } from '../../src/api/study.js';
import { createStudy } from '../../src/engine/ask-tell.js';
import { FUNCTIONS } from '../samplers/functions.js';

const branin = FUNCTIONS.find((f) => f.name === 'branin')!;

/**
 * Constrained Branin: minimise Branin on [-5, 10] × [0, 15] subject to
 * (x0 − 2.5)² + (x1 − 7.5)² ≤ 50, a disc that keeps about 70% of the box but excludes two of
 * Branin's three global minima, (−π, 12.275) and (9.42, 2.475); the feasible optimum is the
 * third, (π, 2.275), still 0.397887.
 */
export const CONSTRAINED_BRANIN = {
  parameters: branin.parameters,
  optimum: branin.optimum,
  disc: (p: Record<string, number | string>) =>
    ((p['x0'] as number) - 2.5) ** 2 + ((p['x1'] as number) - 7.5) ** 2,
  bound: 50,
};

/** Best feasible Branin value a sampler finds in `trials` trials (Infinity: none feasible). */
export async function bestFeasibleBranin(
  algorithm: AlgorithmName,
  seed: number,
  trials: number,
  settings: Record<string, unknown> = {},
): Promise<number> {
  const study = createStudy({
    parameters: CONSTRAINED_BRANIN.parameters,
    objective: { metric: 'branin', goal: 'minimize' },
    constraints: [{ metric: 'disc', max: CONSTRAINED_BRANIN.bound }],
    algorithm: { name: algorithm, settings },
    seed,
    maxTrials: trials,
  });
  for (let t = 0; t < trials; t++) {
    const [trial] = await study.ask(1);
    const params = trial!.params as Record<string, number>;
    study.tell(trial!.id, { values: branin.f(params), metrics: { disc: CONSTRAINED_BRANIN.disc(params) } });
  }
  return study.best()?.value ?? Infinity;
}
