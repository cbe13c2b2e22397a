// Per-epoch checkpoints in a single self-describing file, so a restarted or promoted trial
// resumes where it stopped. tfjs's file:// IO needs tfjs-node, so weights are serialised here:
//   "KTCKPT1\n" | uint32 LE header length | JSON header | float32 LE weight data
// The file is written to a temp name and renamed, so a kill mid-write leaves the previous one.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Architecture } from './model.js';
import { UserError } from './errors.js';

const MAGIC = Buffer.from('KTCKPT1\n', 'latin1');
export const CHECKPOINT_FILE = 'checkpoint.bin';

interface Header {
  version: 1;
  /** Last completed epoch (1-based). */
  epoch: number;
  architecture: Architecture;
  weights: { name: string; shape: number[] }[];
  /** The metric line printed for `epoch`, re-emitted if there is nothing left to train. */
  lastMetricsLine: string;
  savedAt: string;
}

export interface Restored {
  epoch: number;
  lastMetricsLine: string;
}

/**
 * Creates the checkpoint directory up front, so a bad path fails before any training. Walks the
 * parents itself: Node 20's mkdirSync({ recursive: true }) spins forever under /proc.
 */
export function prepareCheckpointDir(dir: string): void {
  const missing: string[] = [];
  let cur = resolve(dir);
  while (!existsSync(cur)) {
    missing.unshift(cur);
    const parent = dirname(cur);
    if (parent === cur) break;
    cur = parent;
  }
  try {
    for (const d of missing) mkdirSync(d);
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    const probe = join(dir, `.write-test-${process.pid}`);
    closeSync(openSync(probe, 'w'));
    renameSync(probe, `${probe}.done`);
    rmSync(`${probe}.done`);
  } catch (err) {
    throw new UserError(`--checkpoint-dir ${dir}: cannot write there (${(err as Error).message})`);
  }
}

export function saveCheckpoint(
  dir: string,
  model: LayersModel,
  epoch: number,
  architecture: Architecture,
  lastMetricsLine: string,
): void {
  const tensors = model.getWeights();
  const header: Header = {
    version: 1,
    epoch,
    architecture,
    weights: model.weights.map((w, i) => ({ name: w.originalName, shape: tensors[i]?.shape ?? [] })),
    lastMetricsLine,
    savedAt: new Date().toISOString(),
  };
  const headerBuf = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(headerBuf.length);

  const final = join(dir, CHECKPOINT_FILE);
  const tmp = `${final}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, MAGIC);
    writeSync(fd, len);
    writeSync(fd, headerBuf);
    for (const t of tensors) {
      const data = t.dataSync() as Float32Array;
      writeSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, final);
}

/** Loads weights into `model` if dir holds a checkpoint; undefined when there is none yet. */
export function loadCheckpoint(
  dir: string,
  model: LayersModel,
  architecture: Architecture,
): Restored | undefined {
  const path = join(dir, CHECKPOINT_FILE);
  if (!existsSync(path)) return undefined;
  const buf = readFileSync(path);
  if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new UserError(`${path} is not a kubetune-trainer checkpoint; use an empty --checkpoint-dir`);
  }
  const headerLen = buf.readUInt32LE(MAGIC.length);
  const headerStart = MAGIC.length + 4;
  const header = JSON.parse(buf.subarray(headerStart, headerStart + headerLen).toString('utf8')) as Header;

  const diffs = describeDifferences(header.architecture, architecture);
  if (diffs.length > 0) {
    throw new UserError(
      `--checkpoint-dir ${dir} holds a different model (${diffs.join('; ')}); ` +
        'resume with the same architecture flags or use a fresh --checkpoint-dir',
    );
  }
  if (header.weights.length !== model.weights.length) {
    throw new UserError(
      `${path}: ${header.weights.length} weight tensors saved, the model has ${model.weights.length}`,
    );
  }

  // Copy into an aligned buffer: the header length makes the weight offset arbitrary.
  const body = buf.subarray(headerStart + headerLen);
  const floats = new Float32Array(body.length / 4);
  new Uint8Array(floats.buffer).set(body.subarray(0, floats.length * 4));
  let offset = 0;
  const tensors = header.weights.map((w) => {
    const size = w.shape.reduce((a, b) => a * b, 1);
    const t = tf.tensor(floats.subarray(offset, offset + size), w.shape, 'float32');
    offset += size;
    return t;
  });
  if (offset !== floats.length) {
    tf.dispose(tensors);
    throw new UserError(`${path} is truncated or corrupt (weight data does not match its header)`);
  }
  model.setWeights(tensors);
  tf.dispose(tensors);
  return { epoch: header.epoch, lastMetricsLine: header.lastMetricsLine };
}

function describeDifferences(saved: Architecture, wanted: Architecture): string[] {
  const diffs: string[] = [];
  for (const key of Object.keys(wanted) as (keyof Architecture)[]) {
    const a = JSON.stringify(saved[key]);
    const b = JSON.stringify(wanted[key]);
    if (a !== b) diffs.push(`${key}: saved ${a}, requested ${b}`);
  }
  return diffs;
}
