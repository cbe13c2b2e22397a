// Network construction and optimiser set-up from the flags.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { TrainerConfig } from './flags.js';
import { deriveSeed } from './split.js';
import { UserError } from './errors.js';

export interface ModelInput {
  numFeatures: number;
  numClasses: number;
  imageShape: [number, number, number] | undefined;
}

/**
 * What must match for saved weights to load: everything that changes a weight's shape or
 * meaning. Hyperparameters such as the learning rate may differ on resume (Hyperband promotes a
 * trial with the same architecture and more epochs).
 */
export interface Architecture {
  model: TrainerConfig['model'];
  layers: number;
  units: number;
  filters: number;
  activation: TrainerConfig['activation'];
  numFeatures: number;
  numClasses: number;
  imageShape: [number, number, number] | null;
}

export function architectureOf(config: TrainerConfig, input: ModelInput): Architecture {
  return {
    model: config.model,
    layers: config.layers,
    units: config.units,
    filters: config.model === 'cnn' ? config.filters : 0,
    activation: config.activation,
    numFeatures: input.numFeatures,
    numClasses: input.numClasses,
    imageShape: config.model === 'cnn' ? (input.imageShape ?? null) : null,
  };
}

export function buildModel(config: TrainerConfig, input: ModelInput): tfl.Sequential {
  let layerNo = 0;
  // Each layer gets its own derived seed so the init is reproducible yet not identical per layer.
  const init = () => tfl.initializers.glorotUniform({ seed: deriveSeed(config.seed, 1000 + layerNo++) });
  const regularizer = config.weightDecay > 0 ? tfl.regularizers.l2({ l2: config.weightDecay }) : undefined;
  const dropout = (model: tfl.Sequential) => {
    if (config.dropout > 0) {
      model.add(
        tfl.layers.dropout({ rate: config.dropout, seed: deriveSeed(config.seed, 2000 + layerNo++) }),
      );
    }
  };

  const model = tfl.sequential();
  if (config.model === 'cnn') {
    const shape = input.imageShape;
    if (shape === undefined) {
      throw new UserError(
        '--model cnn needs image-shaped data: give meta.json {"shape": [h, w, c]} in --data-dir',
      );
    }
    const maxBlocks = Math.floor(Math.log2(Math.min(shape[0], shape[1])));
    if (config.layers > maxBlocks) {
      throw new UserError(
        `--layers ${config.layers} is too deep for --model cnn on ${shape[0]}x${shape[1]} images: at most ${maxBlocks} conv blocks (each halves the size)`,
      );
    }
    model.add(tfl.layers.reshape({ inputShape: [input.numFeatures], targetShape: shape }));
    for (let b = 0; b < config.layers; b++) {
      model.add(
        tfl.layers.conv2d({
          filters: config.filters * 2 ** b,
          kernelSize: 3,
          padding: 'same',
          activation: config.activation,
          kernelInitializer: init(),
          kernelRegularizer: regularizer,
        }),
      );
      model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
    }
    model.add(tfl.layers.flatten());
    dropout(model);
    model.add(
      tfl.layers.dense({
        units: config.units,
        activation: config.activation,
        kernelInitializer: init(),
        kernelRegularizer: regularizer,
      }),
    );
    dropout(model);
  } else {
    for (let l = 0; l < config.layers; l++) {
      model.add(
        tfl.layers.dense({
          ...(l === 0 ? { inputShape: [input.numFeatures] } : {}),
          units: config.units,
          activation: config.activation,
          kernelInitializer: init(),
          kernelRegularizer: regularizer,
        }),
      );
      dropout(model);
    }
  }
  model.add(
    tfl.layers.dense({
      units: input.numClasses,
      activation: 'softmax',
      kernelInitializer: init(),
      kernelRegularizer: regularizer,
    }),
  );
  return model;
}

export function createOptimizer(config: TrainerConfig): tf.Optimizer {
  const lr = config.learningRate;
  switch (config.optimizer) {
    case 'sgd':
      return tf.train.sgd(lr);
    case 'momentum':
      return tf.train.momentum(lr, config.momentum);
    case 'adam':
      return tf.train.adam(lr);
    case 'rmsprop':
      return tf.train.rmsprop(lr);
    case 'adagrad':
      return tf.train.adagrad(lr);
  }
}

/** Learning rate for a 1-based epoch under the configured schedule. */
export function learningRateAt(config: TrainerConfig, epoch: number): number {
  const e = epoch - 1;
  switch (config.lrSchedule) {
    case 'constant':
      return config.learningRate;
    case 'step':
      return config.learningRate * config.lrDecay ** Math.floor(e / config.lrStepEpochs);
    case 'exponential':
      return config.learningRate * config.lrDecay ** e;
    case 'cosine':
      // Anneals to zero at --epochs; a promoted trial with more epochs gets a longer curve.
      return config.learningRate * 0.5 * (1 + Math.cos((Math.PI * e) / config.epochs));
  }
}

/**
 * tfjs optimisers have no public learning-rate setter except SGD's (whose subclass Momentum
 * reads a cached scalar set by it); the others read the `learningRate` field on every step.
 */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}
