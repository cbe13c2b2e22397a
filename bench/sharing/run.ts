/**
 * GPU fair-share benchmark: `npm run bench:sharing [-- --seeds N]`.
 *
 * A pure simulation of the operator's --max-gpus division: studies arrive at random times with
 * random weights, parallelism, GPUs per trial and trial counts; trials take random times. At
 * every arrival and trial end, the same fairShare function the operator uses decides what
 * starts (running trials are never stopped). Sampled once per simulated minute:
 * - fair-share error: |GPUs a study holds - its fluid weighted max-min share| per study with
 *   work left, in GPUs (mean and p95);
 * - idle: free GPUs while some study has a trial waiting, as a fraction of all GPUs.
 * Rows are medians over seeds.
 */
import { parseArgs } from 'node:util';
import { fairShare, type ShareClaim } from '../../src/operator/study/fair-share.js';

interface SimStudy {
  key: string;
  weight: number;
  parallelism: number;
  gpusPerTrial: number;
  arrival: number;
  trialsLeft: number;
  running: number[];
}

interface Mix {
  label: string;
  gpus: number;
  studies: number;
  gpusPerTrial: number[];
}

const MIXES: Mix[] = [
  { label: '8 GPUs, 4 studies, 1 GPU/trial', gpus: 8, studies: 4, gpusPerTrial: [1] },
  { label: '16 GPUs, 8 studies, 1 GPU/trial', gpus: 16, studies: 8, gpusPerTrial: [1] },
  { label: '16 GPUs, 8 studies, 1-2 GPUs/trial', gpus: 16, studies: 8, gpusPerTrial: [1, 2] },
  { label: '64 GPUs, 20 studies, 1-4 GPUs/trial', gpus: 64, studies: 20, gpusPerTrial: [1, 2, 4] },
];

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const pick = <T>(rand: () => number, xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;

/** The fluid weighted max-min share of `capacity` for studies that can use at most `cap` each. */
function fluidShares(
  studies: { key: string; weight: number; cap: number }[],
  capacity: number,
): Map<string, number> {
  const share = new Map(studies.map((s) => [s.key, 0]));
  let open = studies.filter((s) => s.cap > 0);
  let left = capacity;
  while (open.length > 0 && left > 1e-9) {
    const totalWeight = open.reduce((sum, s) => sum + s.weight, 0);
    const level = left / totalWeight;
    const capped = open.filter((s) => s.cap - share.get(s.key)! <= level * s.weight);
    if (capped.length === 0) {
      for (const s of open) share.set(s.key, share.get(s.key)! + level * s.weight);
      break;
    }
    for (const s of capped) {
      left -= s.cap - share.get(s.key)!;
      share.set(s.key, s.cap);
    }
    open = open.filter((s) => !capped.includes(s));
  }
  return share;
}

const demandOf = (s: SimStudy) => Math.max(0, Math.min(s.parallelism - s.running.length, s.trialsLeft));

function simulate(mix: Mix, seed: number): { meanErr: number; p95Err: number; idle: number } {
  const rand = lcg(seed);
  const studies: SimStudy[] = Array.from({ length: mix.studies }, (_, i) => ({
    key: `s${i}`,
    weight: pick(rand, [1, 1, 2, 4]),
    parallelism: 2 + Math.floor(rand() * 15),
    gpusPerTrial: pick(rand, mix.gpusPerTrial),
    arrival: Math.floor(rand() * 600),
    trialsLeft: 10 + Math.floor(rand() * 60),
    running: [],
  }));
  const errors: number[] = [];
  let idleGpuMinutes = 0;
  let pendingMinutes = 0;
  for (let t = 0; ; t++) {
    for (const s of studies) s.running = s.running.filter((end) => end > t);
    const present = studies.filter((s) => s.arrival <= t && (s.trialsLeft > 0 || s.running.length > 0));
    if (present.length === 0 && studies.every((s) => s.arrival <= t)) break;
    const claims: ShareClaim[] = present.map((s) => ({
      key: s.key,
      priority: 0,
      weight: s.weight,
      usedGpus: s.running.length * s.gpusPerTrial,
      usedTrials: s.running.length,
      demand: demandOf(s),
      gpusPerTrial: s.gpusPerTrial,
    }));
    const grants = fairShare(claims, { gpus: mix.gpus });
    for (const s of present) {
      for (let k = grants.get(s.key) ?? 0; k > 0; k--) {
        s.running.push(t + 5 + Math.floor(rand() * 55));
        s.trialsLeft--;
      }
    }
    const caps = present.map((s) => ({
      key: s.key,
      weight: s.weight,
      cap: Math.min(s.parallelism, s.running.length + s.trialsLeft) * s.gpusPerTrial,
    }));
    const shares = fluidShares(caps, mix.gpus);
    for (const s of present) errors.push(Math.abs(s.running.length * s.gpusPerTrial - shares.get(s.key)!));
    const used = present.reduce((sum, s) => sum + s.running.length * s.gpusPerTrial, 0);
    if (present.some((s) => demandOf(s) > 0)) {
      pendingMinutes++;
      idleGpuMinutes += mix.gpus - used;
    }
  }
  errors.sort((a, b) => a - b);
  return {
    meanErr: errors.reduce((a, b) => a + b, 0) / Math.max(1, errors.length),
    p95Err: errors[Math.floor(0.95 * (errors.length - 1))] ?? 0,
    idle: pendingMinutes === 0 ? 0 : idleGpuMinutes / (pendingMinutes * mix.gpus),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '9' } } });
const seeds = Number(values.seeds);
console.log(`GPU fair share, median over ${seeds} seeds (errors in GPUs, sampled per simulated minute)`);
console.log('| mix | error mean | error p95 | idle while work waits |');
console.log('|---|---:|---:|---:|');
for (const mix of MIXES) {
  const runs = Array.from({ length: seeds }, (_, i) => simulate(mix, i + 1));
  console.log(
    `| ${mix.label} | ${median(runs.map((r) => r.meanErr)).toFixed(2)} | ${median(runs.map((r) => r.p95Err)).toFixed(2)} | ${(100 * median(runs.map((r) => r.idle))).toFixed(2)}% |`,
  );
}
