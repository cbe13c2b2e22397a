import { crowdingDistance, hypervolume, nonDominatedRanks } from '../engine/pareto.js';

/**
 * Deb's constrained ranking of minimised objective vectors: feasible rows by non-dominated
 * rank, every infeasible row after all of them, ordered by how far it misses the constraints.
 * Lower is better.
 */
export function constrainedRanks(ys: readonly (readonly number[])[], violation: readonly number[]): number[] {
  const feasible = ys.map((_, i) => i).filter((i) => violation[i] === 0);
  const ranks = new Array<number>(ys.length).fill(0);
  const fr = nonDominatedRanks(feasible.map((i) => ys[i] as number[]));
  feasible.forEach((row, k) => (ranks[row] = fr[k] as number));
  const base = fr.length > 0 ? Math.max(...fr) + 1 : 0;
  const misses = [...new Set(violation.filter((v) => v > 0))].sort((a, b) => a - b);
  ys.forEach((_, i) => {
    const v = violation[i] as number;
    if (v > 0) ranks[i] = base + misses.indexOf(v);
  });
  return ranks;
}

/**
 * How much each point of one front adds, for ordering within it: its exclusive hypervolume
 * up to `ref` for up to three objectives, its crowding distance beyond (exact hypervolume grows
 * too fast with the number of objectives). Higher is more valuable.
 */
export function frontContributions(points: readonly (readonly number[])[], ref: readonly number[]): number[] {
  if (points.length === 0) return [];
  if (points.length === 1) return [1];
  if (ref.length > 3) return crowdingDistance(points);
  const total = hypervolume(points, ref);
  return points.map(
    (_, i) =>
      total -
      hypervolume(
        points.filter((__, j) => j !== i),
        ref,
      ),
  );
}

/**
 * A reference point beyond every row on each axis (10% of the range past the worst), as
 * Optuna's MOTPE takes it from all trials: far enough that the ends of a front keep a share.
 */
function referencePoint(ys: readonly (readonly number[])[]): number[] {
  return ys[0]!.map((_, k) => {
    const vals = ys.map((p) => p[k] as number);
    const hi = Math.max(...vals);
    const lo = Math.min(...vals);
    return hi + 0.1 * (hi - lo) + 1e-12 * Math.max(1, Math.abs(hi));
  });
}

/**
 * Rows ordered best first for multi-objective selection: by constrained rank, then by what
 * they add to their front, then by trial index so ties are stable. Contributions are computed
 * only for the front that `needed` cuts through: the others are taken or left whole.
 */
export function bestRows(
  ys: readonly (readonly number[])[],
  violation: readonly number[],
  index: readonly number[],
  needed: number,
): number[] {
  const ranks = constrainedRanks(ys, violation);
  const byRank = new Map<number, number[]>();
  ys.forEach((_, i) => {
    const r = ranks[i] as number;
    byRank.set(r, [...(byRank.get(r) ?? []), i]);
  });
  const out: number[] = [];
  for (const r of [...byRank.keys()].sort((a, b) => a - b)) {
    const rows = (byRank.get(r) as number[]).sort((a, b) => (index[a] as number) - (index[b] as number));
    if (out.length < needed && out.length + rows.length > needed && violation[rows[0] as number] === 0) {
      const c = frontContributions(
        rows.map((i) => ys[i] as number[]),
        referencePoint(ys),
      );
      const order = rows.map((row, k) => ({ row, c: c[k] as number }));
      order.sort((a, b) => b.c - a.c || (index[a.row] as number) - (index[b.row] as number));
      out.push(...order.map((o) => o.row));
    } else out.push(...rows);
  }
  return out;
}
