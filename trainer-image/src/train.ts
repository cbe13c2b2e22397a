// The epoch loop. One model.fit call per epoch (rather than one call for all epochs) so that the
// learning rate can follow a schedule, the shuffle order is our seeded one, and each epoch ends
// with a validation pass, a metric line and a checkpoint before the next starts.
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { TrainerConfig } from './flags.js';
import type { EpochMetrics } from './metrics.js';
import { learningRateAt, setLearningRate } from './model.js';
import { deriveSeed, permutation } from './split.js';

export interface Tensors {
  x: tf.Tensor2D;
  /** One-hot labels. */
  y: tf.Tensor2D;
}

export interface TrainOptions {
  config: TrainerConfig;
  model: LayersModel;
  optimizer: tf.Optimizer;
  train: Tensors;
  val: Tensors;
  /** Last epoch already trained (0 for a fresh start). */
  startEpoch: number;
  /** Called after every epoch; returning false stops training early. */
  onEpoch: (m: EpochMetrics) => Promise<boolean> | boolean;
}

const EVAL_BATCH = 1024;

export async function train(opts: TrainOptions): Promise<void> {
  const { config, model, optimizer, train: trainSet, val } = opts;
  const n = trainSet.x.shape[0];
  for (let epoch = opts.startEpoch + 1; epoch <= config.epochs; epoch++) {
    const started = performance.now();
    const lr = learningRateAt(config, epoch);
    setLearningRate(optimizer, lr);

    // Depends only on (seed, epoch): a resumed run sees the same order it would have seen.
    const order = tf.tensor1d(permutation(n, deriveSeed(config.seed, epoch)), 'int32');
    const x = tf.gather(trainSet.x, order);
    const y = tf.gather(trainSet.y, order);
    order.dispose();
    let history;
    try {
      history = await model.fit(x, y, { batchSize: config.batchSize, epochs: 1, shuffle: false, verbose: 0 });
    } finally {
      x.dispose();
      y.dispose();
    }

    const evaluated = model.evaluate(val.x, val.y, { batchSize: EVAL_BATCH }) as tf.Scalar[];
    const [valLoss, valAccuracy] = evaluated.map((t) => t.dataSync()[0] ?? NaN);
    tf.dispose(evaluated);

    const metrics: EpochMetrics = {
      epoch,
      loss: firstValue(history.history.loss),
      accuracy: firstValue(history.history.acc ?? history.history.accuracy),
      val_loss: valLoss ?? NaN,
      val_accuracy: valAccuracy ?? NaN,
      lr,
      epoch_seconds: (performance.now() - started) / 1000,
    };
    if (!(await opts.onEpoch(metrics))) return;
  }
}

function firstValue(values: (number | tf.Tensor)[] | undefined): number {
  const v = values?.[0];
  if (v === undefined) return NaN;
  return typeof v === 'number' ? v : (v.dataSync()[0] ?? NaN);
}
