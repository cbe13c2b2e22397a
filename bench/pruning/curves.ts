/**
 * Simulated learning curves with known finals, for the pruning benchmark.
 *
 * loss_t(θ) = a(θ) + b(θ)·exp(−t/τ(θ)) + ε_t, with ε_t ~ N(0, σ²) drawn deterministically from
 * (seed, trial, epoch). θ = (x, y, learning rate); the final quality a(θ) is the same in both
 * scenarios, only the approach differs:
 *
 * - `typical`: τ from 2 to 7 epochs and a nearly constant amplitude; early ranks mostly agree
 *   with final ranks, apart from slow learners.
 * - `crossing`: a stress test. Low learning rates converge very slowly (τ up to 13.5) and larger
 *   models (x) start higher, so the early leaders are fast, mediocre configurations and the
 *   best finals look bad for several epochs.
 */

export type Scenario = 'typical' | 'crossing';
export const SCENARIOS: readonly Scenario[] = ['typical', 'crossing'];

export const EPOCHS = 27;
export const NOISE = 0.02;

export interface Theta {
  x: number;
  y: number;
  /** Learning rate in [1e-4, 1e-1], log scale. */
  lr: number;
}

function shape(scenario: Scenario, t: Theta): { a: number; b: number; tau: number } {
  const u = Math.log10(t.lr / 1e-4) / 3; // 0..1
  const a = 0.05 + 0.8 * (t.x - 0.35) ** 2 + 0.5 * (t.y - 0.6) ** 2 + 0.6 * (u - 0.55) ** 2;
  return scenario === 'typical'
    ? { a, b: 0.9 + 0.1 * t.x, tau: 2 + 5 * (1 - u) ** 2 }
    : { a, b: 1 + 0.5 * t.x, tau: 1.5 + 12 * (1 - u) ** 2 };
}

/** Noise-free loss after `epoch` epochs. */
export function meanLoss(scenario: Scenario, t: Theta, epoch: number): number {
  const { a, b, tau } = shape(scenario, t);
  return a + b * Math.exp(-epoch / tau);
}

/** The true final value: the noise-free loss after EPOCHS epochs. */
export function trueFinal(scenario: Scenario, t: Theta): number {
  return meanLoss(scenario, t, EPOCHS);
}

/** Simulated time one epoch takes: bigger models (x) are slower, so workers fall out of step. */
export function epochSeconds(t: Theta): number {
  return 1 + 0.5 * t.x;
}

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function uniform(seed: number, trial: number, epoch: number, k: number): number {
  const h = mix(mix(mix(mix(seed + 0x9e3779b9) ^ trial) ^ (epoch * 0x27d4eb2d)) ^ k);
  return (h + 0.5) / 2 ** 32;
}

/** Observed loss: mean plus deterministic Gaussian noise. */
export function observedLoss(
  scenario: Scenario,
  seed: number,
  trial: number,
  t: Theta,
  epoch: number,
): number {
  const u1 = uniform(seed, trial, epoch, 1);
  const u2 = uniform(seed, trial, epoch, 2);
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return meanLoss(scenario, t, epoch) + NOISE * z;
}
