import type { Pruner, PrunerFactory } from '../engine/pruner.js';
import type { AshaConfig } from './asha.js';
import { judgeAsha, judgesRung, readAshaSettings } from './asha.js';
import { reader } from './common.js';

/** Longest bracket schedule kept in memory; larger weight sets are scaled down to this. */
const MAX_SCHEDULE = 4096;

/**
 * Hyperband over ASHA brackets.
 *
 * s_max = ⌊log_η(maxResource / minResource)⌋. Bracket b (0..s_max) runs ASHA with first rung
 * minResource·η^b, and trials are compared only with trials of the same bracket. Bracket 0 is the
 * most aggressive; bracket s_max starts at (about) maxResource, so its trials are never pruned.
 *
 * A trial's bracket is a pure function of its index: brackets get trials in proportion to the
 * number of configurations classic Hyperband starts in them, n_b = ⌈(s_max+1)/(s+1)·η^s⌉ with
 * s = s_max − b, interleaved by smooth weighted round-robin so early trials visit every bracket
 * (e.g. η=3, max/min=27: weights 27, 12, 6, 4, cycle length 49).
 *
 * Trials of the conservative brackets spend most of the budget; trainers that can resume from a
 * checkpoint (`--checkpoint-dir`) could save that, but this pruner never relies on it.
 */
export interface HyperbandPlan {
  sMax: number;
  /** bracket → ASHA settings for it. */
  brackets: AshaConfig[];
  /** bracket of trial index i is schedule[i % schedule.length]. */
  schedule: number[];
}

export function hyperbandPlan(base: AshaConfig & { maxResource: number }): HyperbandPlan {
  const eta = base.reductionFactor;
  let sMax = 0;
  while (base.minResource * eta ** (sMax + 1) <= base.maxResource * (1 + 1e-9)) sMax++;
  const brackets: AshaConfig[] = [];
  let weights: number[] = [];
  for (let b = 0; b <= sMax; b++) {
    const s = sMax - b;
    brackets.push({ ...base, minResource: base.minResource * eta ** b });
    weights.push(Math.ceil(((sMax + 1) / (s + 1)) * eta ** s));
  }
  const total = weights.reduce((a, w) => a + w, 0);
  if (total > MAX_SCHEDULE) weights = weights.map((w) => Math.max(1, Math.round((w * MAX_SCHEDULE) / total)));
  // Smooth weighted round-robin: each turn every bracket gains its weight and the richest one
  // (lowest bracket on ties) is picked and pays the total.
  const sum = weights.reduce((a, w) => a + w, 0);
  const credit = weights.map(() => 0);
  const schedule: number[] = [];
  for (let i = 0; i < sum; i++) {
    let pick = 0;
    for (let b = 0; b < weights.length; b++) {
      credit[b] = (credit[b] as number) + (weights[b] as number);
      if ((credit[b] as number) > (credit[pick] as number)) pick = b;
    }
    credit[pick] = (credit[pick] as number) - sum;
    schedule.push(pick);
  }
  return { sMax, brackets, schedule };
}

export function bracketOf(plan: HyperbandPlan, index: number): number {
  return plan.schedule[index % plan.schedule.length] as number;
}

export const createHyperbandPruner: PrunerFactory = (settings) => {
  const base = readAshaSettings(
    settings,
    reader(settings),
    'hyperband needs maxResource: the step a full trial reaches (e.g. the trainer --epochs)',
  );
  const plan = hyperbandPlan(base as AshaConfig & { maxResource: number });
  const pruner: Pruner = {
    decide(trial, { goal, trials }) {
      const b = bracketOf(plan, trial.index);
      const peers = trials.filter((t) => bracketOf(plan, t.index) === b);
      return judgeAsha(trial, goal, peers, plan.brackets[b] as AshaConfig, `hyperband bracket ${b}`);
    },
    judgesBetween: (index, after, upTo) =>
      judgesRung(plan.brackets[bracketOf(plan, index)] as AshaConfig, after, upTo),
  };
  return pruner;
};
