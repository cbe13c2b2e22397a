import { z } from 'zod';
import { freeForm, type CrossFieldRule } from './crd-meta.js';

/**
 * One configuration to evaluate before the sampler proposes anything (Optuna's enqueue_trial).
 * Values are written as in YAML (numbers or strings); the engine checks them against the
 * search space, conditional parameters included, and names the one at fault.
 */
export const InitialTrial = z.strictObject({
  params: freeForm(z.record(z.string().max(63), z.union([z.string().max(253), z.number()]))),
});
export type InitialTrial = z.output<typeof InitialTrial>;

/** Trials 0, 1, ... of the study take these parameters, in order; they count toward maxTrials. */
export const InitialTrials = z.array(InitialTrial).max(1000).default([]);

/**
 * Earlier Studies in the same namespace whose finished trials seed the sampler's history (read
 * once, at most MAX_PRIOR_TRIALS in all). They must have the same spec.parameters; they are
 * reported apart from this study's trials and do not count toward maxTrials.
 */
export const MAX_PRIOR_TRIALS = 2000;

/** How many Studies spec.priorStudies may name. */
export const MAX_PRIOR_STUDIES = 16;

/** A Study named twice would count its trials twice as evidence. */
export const DISTINCT_PRIOR_STUDIES: CrossFieldRule<string[]> = {
  cel: 'self.all(x, self.exists_one(y, y == x))',
  message: 'must name each Study at most once',
  explain: (names) =>
    `must name each Study at most once; ${names.find((n, i) => names.indexOf(n) !== i)} appears twice`,
  holds: (names) => new Set(names).size === names.length,
};

/** One Study of spec.priorStudies and how many of its finished trials seeded the sampler. */
export const PriorStudyStatus = z.object({
  name: z.string().max(63),
  trials: z.number().int(),
});

/**
 * status.priors: the results of spec.priorStudies the sampler was seeded with, counted apart
 * because they are not this study's trials: status.trials and status.bestTrial never include
 * them. `trials` is the sum over `studies`.
 */
export const PriorsStatus = z.object({
  trials: z.number().int(),
  studies: z.array(PriorStudyStatus).max(MAX_PRIOR_STUDIES),
});
export type PriorsStatus = z.output<typeof PriorsStatus>;
