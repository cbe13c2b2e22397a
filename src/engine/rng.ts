import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** 32-bit avalanche mix (murmur3 finalizer), so nearby seeds and indices give unrelated streams. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function deriveSeed(seed: number, ...streams: (number | string)[]): number {
  let h = mix32(seed >>> 0);
  for (const s of streams) {
    if (typeof s === 'number') h = mix32(h ^ mix32(s >>> 0) ^ Math.floor(s / 2 ** 32));
    else for (let i = 0; i < s.length; i++) h = mix32(h ^ s.charCodeAt(i));
  }
  return h;
}

/**
 * A seeded random stream. Samplers derive one per (seed, trial index, purpose) so that a
 * suggestion depends only on the seed and the history it is given, never on call order.
 */
export class Rng {
  private readonly gen;
  private spareNormal: number | undefined;

  constructor(seed: number, ...streams: (number | string)[]) {
    this.gen = xoroshiro128plus(deriveSeed(seed, ...streams) | 0);
  }

  /** Uniform in [0, 1). */
  float(): number {
    return uniformFloat64(this.gen);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.float() * n));
  }

  normal(): number {
    if (this.spareNormal !== undefined) {
      const v = this.spareNormal;
      this.spareNormal = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.float();
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
    return items;
  }

  unitVector(dim: number): number[] {
    return Array.from({ length: dim }, () => this.float());
  }
}
