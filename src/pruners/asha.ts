import type { Goal } from '../api/study.js';
import type { PruneDecision, Pruner, PrunerFactory } from '../engine/pruner.js';
import { SettingsError } from '../engine/sampler.js';
import type { SettingsReader } from '../engine/settings.js';
import type { TrialView } from '../engine/trial-view.js';
import { goalSign } from '../engine/trial-view.js';
import {
  fmt,
  isEvidence,
  KEEP,
  lastStep,
  optionalNumber,
  reader,
  SETTINGS_PATH,
  stepBefore,
  valueAtOrBefore,
} from './common.js';

export interface AshaConfig {
  /** First rung (grace period), in steps. */
  minResource: number;
  /** Steps of a full trial; rungs stop below it. Undefined: rungs go on forever. */
  maxResource?: number;
  /** η: rungs are minResource·η^k and the top 1/η of a rung continue. */
  reductionFactor: number;
  /** A rung prunes no one until this many trials (the judged one included) have a value there. */
  startupTrials: number;
  /** Rungs at steps <= warmupSteps are not judged. */
  warmupSteps: number;
}

/** Rung steps minResource·η^k inside (after, upTo], below maxResource. */
export function rungsBetween(cfg: AshaConfig, after: number, upTo: number): { k: number; step: number }[] {
  const out: { k: number; step: number }[] = [];
  for (let k = 0; ; k++) {
    const step = cfg.minResource * cfg.reductionFactor ** k;
    if (step > upTo || (cfg.maxResource !== undefined && step >= cfg.maxResource)) break;
    if (step > after) out.push({ k, step });
  }
  return out;
}

/** Whether a report from step `after` to `upTo` crosses a rung judgeAsha would judge. */
export function judgesRung(cfg: AshaConfig, after: number, upTo: number): boolean {
  return rungsBetween(cfg, Math.max(after, cfg.warmupSteps), upTo).length > 0;
}

/**
 * Asynchronous successive halving, as a pure function of the current trial views.
 *
 * A trial is judged at rung r exactly when its newest report crosses r (previous reported
 * step < r <= newest step); callers invoke the pruner on every new intermediate value, so each
 * rung is judged once, against whatever the other trials have recorded there by then.
 *
 * - Value at a rung: the trial's value at its last reported step <= r, counted only once the
 *   trial has reached r (reported a step >= r). Nobody gets credit for more than r steps.
 * - n = trials with a value at r, the judged one included (failed trials excluded; pruned and
 *   finished ones count). With n < startupTrials (default η) nobody is pruned at r.
 * - The top max(1, ⌊n/η⌋) continue. Rank = 1 + number of trials strictly better, so a trial
 *   tied with the cutoff value continues.
 */
export function judgeAsha(
  trial: TrialView,
  goal: Goal,
  peers: readonly TrialView[],
  cfg: AshaConfig,
  label: string,
): PruneDecision {
  const last = lastStep(trial);
  if (last === undefined) return KEEP;
  const prev = stepBefore(trial, last);
  const sign = goalSign(goal);
  for (const { k, step: rung } of rungsBetween(cfg, Math.max(prev, cfg.warmupSteps), last)) {
    const own = valueAtOrBefore(trial, rung);
    if (own === undefined) continue;
    const values = [sign * own];
    for (const t of peers) {
      if (t.index === trial.index || !isEvidence(t)) continue;
      const v = valueAtOrBefore(t, rung);
      if (v !== undefined) values.push(sign * v);
    }
    const n = values.length;
    if (n < Math.max(1, cfg.startupTrials)) continue;
    const keep = Math.max(1, Math.floor(n / cfg.reductionFactor));
    const rank = 1 + values.filter((v) => v < sign * own).length;
    if (rank <= keep) continue;
    values.sort((a, b) => a - b);
    const cutoff = sign * (values[keep - 1] as number);
    return {
      prune: true,
      step: last,
      reason:
        `${label}: at rung ${k} (step ${fmt(rung)}) value ${fmt(own)} ranks ${rank} of ${n}; ` +
        `only the top ${keep} (1/${fmt(cfg.reductionFactor)}) continue, cutoff ${fmt(cutoff)}`,
    };
  }
  return KEEP;
}

/** Reads the settings shared by ASHA and Hyperband. */
export function readAshaSettings(
  settings: Readonly<Record<string, unknown>>,
  r: SettingsReader,
  needMax: string | undefined,
): AshaConfig {
  const minResource = r.number('minResource', { default: 1, min: Number.MIN_VALUE });
  const maxResource = optionalNumber(settings, r, 'maxResource', { min: Number.MIN_VALUE });
  const reductionFactor = r.number('reductionFactor', { default: 3, min: 2, integer: true });
  const startupTrials = r.number('startupTrials', { default: reductionFactor, min: 1, integer: true });
  const warmupSteps = r.number('warmupSteps', { default: 0, min: 0 });
  r.rejectUnknown();
  if (maxResource === undefined && needMax) throw new SettingsError(`${SETTINGS_PATH}.maxResource`, needMax);
  if (maxResource !== undefined && maxResource < minResource)
    throw new SettingsError(
      `${SETTINGS_PATH}.maxResource`,
      `must be >= minResource (${fmt(minResource)}), got ${fmt(maxResource)}`,
    );
  return {
    minResource,
    reductionFactor,
    startupTrials,
    warmupSteps,
    ...(maxResource !== undefined ? { maxResource } : {}),
  };
}

export const createAshaPruner: PrunerFactory = (settings) => {
  const cfg = readAshaSettings(settings, reader(settings), undefined);
  const pruner: Pruner = {
    decide: (trial, { goal, trials }) => judgeAsha(trial, goal, trials, cfg, 'asha'),
    judgesBetween: (_index, after, upTo) => judgesRung(cfg, after, upTo),
  };
  return pruner;
};
