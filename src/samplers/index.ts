import type { AlgorithmName } from '../api/study.js';
import type { SamplerFactory } from '../engine/sampler.js';
import { createBayesianSampler } from './bayesian.js';
import { createCmaesSampler } from './cmaes.js';
import { createGridSampler } from './grid.js';
import { createNsga2Sampler } from './nsga2.js';
import { createRandomSampler } from './random.js';
import { createSobolSampler } from './sobol.js';
import { createTpeSampler } from './tpe.js';

/** algorithm.name → sampler; total over ALGORITHMS, so every name the API accepts has one. */
export const SAMPLERS: Readonly<Record<AlgorithmName, SamplerFactory>> = {
  random: createRandomSampler,
  grid: createGridSampler,
  sobol: createSobolSampler,
  tpe: createTpeSampler,
  bayesian: createBayesianSampler,
  cmaes: createCmaesSampler,
  nsga2: createNsga2Sampler,
};

/**
 * What each sampler can optimise soundly; the engine refuses the rest at validation. The
 * model-free ones ignore results, so several objectives and constraints change nothing for them.
 */
export const SAMPLER_SUPPORT: Readonly<
  Record<AlgorithmName, { multiObjective: boolean; constraints: boolean }>
> = {
  random: { multiObjective: true, constraints: true },
  grid: { multiObjective: true, constraints: true },
  sobol: { multiObjective: true, constraints: true },
  tpe: { multiObjective: true, constraints: true },
  bayesian: { multiObjective: true, constraints: true },
  cmaes: { multiObjective: false, constraints: false },
  nsga2: { multiObjective: true, constraints: true },
};
