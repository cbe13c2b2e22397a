/** One study's standing when free GPUs are divided. */
export interface ShareClaim {
  key: string;
  priority: number;
  /** > 0; a study with twice the weight is entitled to twice the GPUs. */
  weight: number;
  /** GPUs its active trials hold now (they are never taken back). */
  usedGpus: number;
  /** Trials it holds now, for the operator-wide trial cap. */
  usedTrials: number;
  /** Trials it would start now. */
  demand: number;
  gpusPerTrial: number;
}

export interface Capacity {
  gpus: number;
  /** The operator-wide trial cap, when there is one. */
  trials?: number;
}

/**
 * How many new trials each study may start: weighted max-min fairness by progressive filling,
 * one trial at a time to the study whose GPUs per weight would be lowest, so the division is
 * fair to within one trial of the fluid share. A priority level is served completely before the
 * next lower one sees a GPU. Running trials are not moved (no preemption): a study above its
 * share just gets nothing until trials end. A study whose trial needs no GPU gets its demand
 * (bounded only by the trial cap), and a trial that does not fit the GPUs left is passed over so
 * smaller ones can use them. Ties go to the higher weight, then the lower key, so the result
 * depends on the claims alone.
 */
export function fairShare(claims: readonly ShareClaim[], capacity: Capacity): Map<string, number> {
  const granted = new Map<string, number>(claims.map((c) => [c.key, 0]));
  let freeGpus = capacity.gpus - claims.reduce((sum, c) => sum + c.usedGpus, 0);
  let freeTrials = (capacity.trials ?? Infinity) - claims.reduce((sum, c) => sum + c.usedTrials, 0);
  const levels = [...new Set(claims.map((c) => c.priority))].sort((a, b) => b - a);
  for (const level of levels) {
    const open = claims
      .filter((c) => c.priority === level && c.demand > 0)
      .sort((a, b) => (before(a, b) ? -1 : 1));
    // Trials without GPUs are bounded only by the trial cap; granting them at once keeps the
    // loop below at one round per GPU.
    for (const c of open.filter((o) => o.gpusPerTrial === 0)) {
      const n = Math.max(0, Math.min(c.demand, freeTrials));
      granted.set(c.key, n);
      freeTrials -= n;
    }
    for (;;) {
      let best: ShareClaim | undefined;
      let bestLoad = Infinity;
      for (const c of open) {
        const n = granted.get(c.key)!;
        if (c.gpusPerTrial === 0 || n >= c.demand || c.gpusPerTrial > freeGpus || freeTrials < 1) continue;
        const load = (c.usedGpus + (n + 1) * c.gpusPerTrial) / c.weight;
        if (best === undefined || load < bestLoad || (load === bestLoad && before(c, best))) {
          best = c;
          bestLoad = load;
        }
      }
      if (!best) break;
      granted.set(best.key, granted.get(best.key)! + 1);
      freeGpus -= best.gpusPerTrial;
      freeTrials -= 1;
    }
  }
  return granted;
}

function before(a: ShareClaim, b: ShareClaim): boolean {
  return a.weight !== b.weight ? a.weight > b.weight : a.key < b.key;
}
