import type { PruneDecision } from '../../engine/pruner.js';
import type { TrialView } from '../../engine/trial-view.js';

/** One pruning decision on a trial's values so far (the engine's, possibly on a worker thread). */
export type PruneDecider = (trial: TrialView, peers: readonly TrialView[]) => Promise<PruneDecision>;

const KEEP: PruneDecision = { prune: false };

/**
 * Pruning decisions for running trials, one per reported step, in order. `kubetune run` asks the
 * pruner after every line; the operator sees a trial's values in batches (one status write per
 * flush), and judging only a batch's newest step would skip the rungs its other steps crossed.
 * So every step that arrived since the trial's last judgement is judged, as the local runner
 * would have, each against the trial's values up to that step.
 *
 * Progress is kept per trial and pod (a Job retry starts its curve over). It lives in memory:
 * after an operator restart the steps recorded before are taken as judged and only the newest
 * one is judged again, as the previous operator may have judged the others against other peers.
 */
export class PruneJudge {
  private readonly judged = new Map<string, { pod: string; step: number }>();

  async judge(
    decide: PruneDecider,
    key: string,
    pod: string,
    trial: TrialView,
    peers: readonly TrialView[],
  ): Promise<PruneDecision> {
    const points = trial.intermediate;
    let cursor = this.judged.get(key);
    if (cursor?.pod !== pod) {
      // First sight of this attempt. A trial running when this operator started has its steps
      // but the newest judged already; a new attempt (a Job retry) has judged none.
      cursor = { pod, step: cursor ? -Infinity : (points.at(-2)?.step ?? -Infinity) };
      this.judged.set(key, cursor);
    }
    const after = cursor.step;
    const from = points.findIndex((p) => p.step > after);
    if (from < 0) return KEEP;
    for (let i = from; i < points.length; i++) {
      const decision = await decide({ ...trial, intermediate: points.slice(0, i + 1) }, peers);
      // Not moved past a step that pruned: if recording the decision fails, it is judged again.
      if (decision.prune) return decision;
      this.judged.set(key, { pod, step: (points[i] as { step: number }).step });
    }
    return KEEP;
  }

  forget(key: string): void {
    this.judged.delete(key);
  }
}
