// Seeded, pure index arithmetic: which samples train and which validate. Kept free of tfjs so it
// can be unit-tested exactly and so that the split never depends on the backend.

/** mulberry32: tiny, fast and good enough to shuffle datasets reproducibly across platforms. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes two integers into a new seed, so derived streams (per epoch, per layer) don't overlap. */
export function deriveSeed(seed: number, salt: number): number {
  let h = Math.imul((seed ^ 0x9e3779b9) >>> 0, 0x85ebca6b) ^ Math.imul(salt + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

export function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const rand = seededRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}

export function permutation(n: number, seed: number): number[] {
  return shuffle(
    Array.from({ length: n }, (_, i) => i),
    seed,
  );
}

export interface Split {
  train: number[];
  val: number[];
}

export interface HoldoutOptions {
  seed: number;
  valFraction: number;
  trainSize?: number | undefined;
  valSize?: number | undefined;
}

/**
 * Holds out valFraction of a seeded permutation for validation. Caps are applied after the split,
 * so a smaller --train-size never moves a sample from validation into training.
 */
export function holdoutSplit(n: number, opts: HoldoutOptions): Split {
  if (n < 2) throw new Error(`need at least 2 samples to split, got ${n}`);
  const perm = permutation(n, opts.seed);
  const nVal = Math.min(n - 1, Math.max(1, Math.round(n * opts.valFraction)));
  const val = perm.slice(0, nVal);
  const train = perm.slice(nVal);
  return cap({ train, val }, opts.trainSize, opts.valSize);
}

/**
 * K-fold cross-validation: a seeded permutation cut into `folds` contiguous parts whose sizes
 * differ by at most one; part `fold` validates, the others train. Across all folds the
 * validation sets are disjoint and together cover every sample exactly once.
 */
export function kFoldSplit(
  n: number,
  folds: number,
  fold: number,
  seed: number,
  trainSize?: number,
  valSize?: number,
): Split {
  if (!Number.isInteger(folds) || folds < 2) throw new Error(`folds must be an integer >= 2, got ${folds}`);
  if (!Number.isInteger(fold) || fold < 0 || fold >= folds) {
    throw new Error(`fold must be in [0, ${folds - 1}], got ${fold}`);
  }
  if (n < folds) throw new Error(`cannot cut ${n} samples into ${folds} folds`);
  const perm = permutation(n, seed);
  const start = foldStart(n, folds, fold);
  const end = foldStart(n, folds, fold + 1);
  const val = perm.slice(start, end);
  const train = [...perm.slice(0, start), ...perm.slice(end)];
  return cap({ train, val }, trainSize, valSize);
}

function foldStart(n: number, folds: number, fold: number): number {
  // The first n % folds folds get one extra sample.
  const base = Math.floor(n / folds);
  const extra = n % folds;
  return fold * base + Math.min(fold, extra);
}

function cap(split: Split, trainSize?: number, valSize?: number): Split {
  return {
    train: trainSize === undefined ? split.train : split.train.slice(0, trainSize),
    val: valSize === undefined ? split.val : split.val.slice(0, valSize),
  };
}
