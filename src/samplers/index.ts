import type { AlgorithmName } from '../api/study.js';
import type { SamplerFactory } from '../engine/sampler.js';
import { createBayesianSampler } from './bayesian.js';
import { createCmaesSampler } from './cmaes.js';
import { createGridSampler } from './grid.js';
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
};
