/**
 * Pareto arithmetic on objective vectors that are all to be minimised (callers flip the sign of
 * maximised objectives first).
 */

/** a is no worse than b everywhere and better somewhere. */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let strictly = false;
  for (let i = 0; i < a.length; i++) {
    if ((a[i] as number) > (b[i] as number)) return false;
    if ((a[i] as number) < (b[i] as number)) strictly = true;
  }
  return strictly;
}

/** Non-dominated rank of each point (0 = on the front), by Deb's fast non-dominated sort. */
export function nonDominatedRanks(points: readonly (readonly number[])[]): number[] {
  const n = points.length;
  const dominatedBy = new Array<number>(n).fill(0);
  const beats: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const p = points[i] as number[];
      const q = points[j] as number[];
      if (dominates(p, q)) {
        beats[i]!.push(j);
        dominatedBy[j]!++;
      } else if (dominates(q, p)) {
        beats[j]!.push(i);
        dominatedBy[i]!++;
      }
    }
  }
  const rank = new Array<number>(n).fill(-1);
  let front = [...Array(n).keys()].filter((i) => dominatedBy[i] === 0);
  for (let r = 0; front.length > 0; r++) {
    const next: number[] = [];
    for (const i of front) {
      rank[i] = r;
      for (const j of beats[i]!) if (--dominatedBy[j]! === 0) next.push(j);
    }
    front = next;
  }
  return rank;
}

/**
 * Hypervolume dominated by the points and bounded by `ref` (points not strictly better than
 * ref on every axis add nothing). Exact, by slicing along the last axis (HSO): fast for two or
 * three objectives and the few hundred points a study has.
 */
export function hypervolume(points: readonly (readonly number[])[], ref: readonly number[]): number {
  const inside = points.filter((p) => p.every((v, i) => v < (ref[i] as number)));
  return slices(inside, ref);
}

function slices(points: readonly (readonly number[])[], ref: readonly number[]): number {
  const d = ref.length;
  if (points.length === 0) return 0;
  if (d === 1) return (ref[0] as number) - Math.min(...points.map((p) => p[0] as number));
  if (d === 2) {
    const sorted = [...points].sort(
      (a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number),
    );
    let volume = 0;
    let lastY = ref[1] as number;
    for (const p of sorted) {
      if ((p[1] as number) < lastY) {
        volume += ((ref[0] as number) - (p[0] as number)) * (lastY - (p[1] as number));
        lastY = p[1] as number;
      }
    }
    return volume;
  }
  const sorted = [...points].sort((a, b) => (a[d - 1] as number) - (b[d - 1] as number));
  const subRef = ref.slice(0, d - 1);
  let volume = 0;
  for (let k = 0; k < sorted.length; k++) {
    const top = k + 1 < sorted.length ? (sorted[k + 1]![d - 1] as number) : (ref[d - 1] as number);
    const depth = top - (sorted[k]![d - 1] as number);
    if (depth <= 0) continue;
    const projected = sorted.slice(0, k + 1).map((p) => p.slice(0, d - 1));
    // The two-dimensional sweep skips dominated points itself; deeper recursions gain from pruning them.
    volume += depth * slices(d - 1 > 2 ? front(projected) : projected, subRef);
  }
  return volume;
}

/** The non-dominated subset, which keeps the recursion in `slices` small. */
function front(points: number[][]): number[][] {
  return points.filter((p, i) => !points.some((q, j) => j !== i && dominates(q, p)));
}

/** Crowding distance of each point within one front (NSGA-II); the extremes get Infinity. */
export function crowdingDistance(points: readonly (readonly number[])[]): number[] {
  const n = points.length;
  const dist = new Array<number>(n).fill(0);
  if (n === 0) return dist;
  const m = points[0]!.length;
  for (let k = 0; k < m; k++) {
    const order = [...Array(n).keys()].sort(
      (a, b) => (points[a]![k] as number) - (points[b]![k] as number) || a - b,
    );
    const lo = points[order[0]!]![k] as number;
    const hi = points[order[n - 1]!]![k] as number;
    dist[order[0]!] = Infinity;
    dist[order[n - 1]!] = Infinity;
    if (hi === lo) continue;
    for (let r = 1; r < n - 1; r++)
      dist[order[r]!]! +=
        ((points[order[r + 1]!]![k] as number) - (points[order[r - 1]!]![k] as number)) / (hi - lo);
  }
  return dist;
}
