import type { Assignment } from '../api/parameter.js';
import { crowdingDistance } from '../engine/pareto.js';
import { Rng } from '../engine/rng.js';
import type { Sampler, SamplerFactory } from '../engine/sampler.js';
import type { SearchSpace } from '../engine/search-space.js';
import { SettingsReader } from '../engine/settings.js';
import { categoryCounts, collectHistory, type History, snap } from './history.js';
import { constrainedRanks } from './ranking.js';
import { ScrambledSobol } from './sobol.js';

/**
 * NSGA-II (Deb et al. 2002), the evolutionary baseline for several objectives; it also serves
 * one objective. Trial i belongs to generation floor(i / populationSize). The first generation
 * is a scrambled Sobol design; later ones breed from the parents, the best `populationSize`
 * finished trials of all earlier generations by Deb's constrained rank (a feasible trial beats
 * an infeasible one, infeasible ones compare by how far they miss) and crowding distance.
 * Parents are picked by binary tournament, crossed by SBX and mutated polynomially; categories
 * are inherited from either parent and mutated by a uniform redraw. A child depends only on
 * the seed, its index and the earlier generations, so a restart proposes the same trials.
 */
export interface Nsga2Options {
  populationSize: number;
  crossoverProb: number;
  /** Per-dimension mutation probability; 0 means 1 / number of parameters. */
  mutationProb: number;
  crossoverEta: number;
  mutationEta: number;
}

export function readNsga2Options(settings: Readonly<Record<string, unknown>>): Nsga2Options {
  const r = new SettingsReader(settings, 'algorithm.settings');
  const opts: Nsga2Options = {
    populationSize: r.number('populationSize', { default: 50, min: 2, max: 10_000, integer: true }),
    crossoverProb: r.number('crossoverProb', { default: 0.9, min: 0, max: 1 }),
    mutationProb: r.number('mutationProb', { default: 0, min: 0, max: 1 }),
    crossoverEta: r.number('crossoverEta', { default: 20, min: 0.1, max: 1000 }),
    mutationEta: r.number('mutationEta', { default: 20, min: 0.1, max: 1000 }),
  };
  r.rejectUnknown();
  return opts;
}

export const createNsga2Sampler: SamplerFactory = (settings) => {
  const opts = readNsga2Options(settings);
  const sampler: Sampler = {
    async suggest(ctx, indices) {
      const { space } = ctx;
      const h = collectHistory(ctx);
      const sobol = new ScrambledSobol(space.size, ctx.seed);
      const parentsOf = new Map<number, number[]>();
      return indices.map((index) => {
        const generation = Math.floor(index / opts.populationSize);
        if (!parentsOf.has(generation)) parentsOf.set(generation, selectParents(h, generation, opts));
        const parents = parentsOf.get(generation) as number[];
        const a =
          parents.length < 2
            ? space.fromUnit(sobol.point(index))
            : breed(space, h, parents, opts, new Rng(ctx.seed, 'nsga2', index));
        h.keys.add(space.key(a));
        return a;
      });
    },
  };
  return sampler;
};

/**
 * Rows of the history that parent `generation`, best first: elitist selection over every
 * earlier generation by constrained rank, then crowding distance within the last rank taken.
 */
function selectParents(h: History, generation: number, opts: Nsga2Options): number[] {
  const limit = generation * opts.populationSize;
  const rows = h.index.map((t, i) => (t < limit ? i : -1)).filter((i) => i >= 0);
  const ranks = constrainedRanks(
    rows.map((i) => h.ys[i] as number[]),
    rows.map((i) => h.violation[i] as number),
  );
  const chosen: number[] = [];
  const levels = [...new Set(ranks)].sort((a, b) => a - b);
  for (const level of levels) {
    if (chosen.length >= opts.populationSize) break;
    const members = rows.filter((_, k) => ranks[k] === level);
    const crowd = crowdingDistance(members.map((i) => h.ys[i] as number[]));
    const order = members
      .map((row, k) => ({ row, c: crowd[k] as number }))
      .sort((a, b) => b.c - a.c || (h.index[a.row] as number) - (h.index[b.row] as number));
    chosen.push(...order.slice(0, opts.populationSize - chosen.length).map((o) => o.row));
  }
  return chosen;
}

function breed(space: SearchSpace, h: History, parents: number[], opts: Nsga2Options, rng: Rng): Assignment {
  const counts = categoryCounts(space);
  const d = space.size;
  const pm = opts.mutationProb > 0 ? opts.mutationProb : 1 / d;
  // Parents are ordered best first, so the lower position wins a tournament.
  const pick = () => Math.min(rng.int(parents.length), rng.int(parents.length));
  let child: Assignment | undefined;
  for (let attempt = 0; attempt < 16; attempt++) {
    const p1 = h.x[parents[pick()] as number] as number[];
    const p2 = h.x[parents[pick()] as number] as number[];
    const cross = rng.float() < opts.crossoverProb;
    const u = p1.map((v1, i) => {
      const v2 = p2[i] as number;
      const k = counts[i] as number;
      let v =
        k > 0 ? (cross && rng.float() < 0.5 ? v2 : v1) : cross ? sbx(v1, v2, opts.crossoverEta, rng) : v1;
      if (rng.float() < pm) v = k > 0 ? (rng.int(k) + 0.5) / k : polynomialMutation(v, opts.mutationEta, rng);
      return Math.min(1 - 1e-12, Math.max(0, v));
    });
    child = space.fromUnit(snap(space, u));
    if (!h.keys.has(space.key(child))) return child;
  }
  return child as Assignment;
}

/** Simulated binary crossover on [0, 1]: one child, spread around the parents by eta. */
function sbx(a: number, b: number, eta: number, rng: Rng): number {
  if (rng.float() >= 0.5 || Math.abs(a - b) < 1e-14) return rng.float() < 0.5 ? a : b;
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  const r = rng.float();
  const side = rng.float() < 0.5;
  const beta = 1 + (2 * (side ? lo : 1 - hi)) / (hi - lo);
  const alpha = 2 - beta ** -(eta + 1);
  const bq = r <= 1 / alpha ? (r * alpha) ** (1 / (eta + 1)) : (1 / (2 - r * alpha)) ** (1 / (eta + 1));
  return side ? 0.5 * (lo + hi - bq * (hi - lo)) : 0.5 * (lo + hi + bq * (hi - lo));
}

/** Deb's polynomial mutation on [0, 1]. */
function polynomialMutation(v: number, eta: number, rng: Rng): number {
  const r = rng.float();
  const p = 1 / (eta + 1);
  const delta =
    r < 0.5
      ? (2 * r + (1 - 2 * r) * (1 - v) ** (eta + 1)) ** p - 1
      : 1 - (2 * (1 - r) + 2 * (r - 0.5) * v ** (eta + 1)) ** p;
  return v + delta;
}
