// One training run for a validated config: backend -> data -> model (+ checkpoint) -> epochs ->
// metric lines. stdout carries only metric lines; everything for humans goes to stderr.
import { setTimeout as sleep } from 'node:timers/promises';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './backend.js';
import { loadCheckpoint, prepareCheckpointDir, saveCheckpoint } from './checkpoint.js';
import { gatherRows, loadDataDir, loadMnist, type Dataset } from './data.js';
import { UserError } from './errors.js';
import type { TrainerConfig } from './flags.js';
import { formatMetricLine, isDiverged, PrometheusExporter } from './metrics.js';
import { architectureOf, buildModel, createOptimizer } from './model.js';
import { holdoutSplit, kFoldSplit, type Split } from './split.js';
import { train, type Tensors } from './train.js';

/** Exit code when --fail-on-nan stops a diverged run. */
export const EXIT_DIVERGED = 3;

export function log(line: string): void {
  process.stderr.write(`kubetune-trainer: ${line}\n`);
}

function splitFor(config: TrainerConfig, data: Dataset): Split {
  if (config.folds !== undefined && config.fold !== undefined) {
    if (data.numSamples < config.folds) {
      throw new UserError(
        `--folds ${config.folds} needs at least that many samples; the dataset has ${data.numSamples}`,
      );
    }
    return kFoldSplit(
      data.numSamples,
      config.folds,
      config.fold,
      config.seed,
      config.trainSize,
      config.valSize,
    );
  }
  return holdoutSplit(data.numSamples, {
    seed: config.seed,
    valFraction: config.valFraction,
    trainSize: config.trainSize,
    valSize: config.valSize,
  });
}

function toTensors(data: Dataset, indices: number[]): Tensors {
  const rows = gatherRows(data, indices);
  return tf.tidy(() => ({
    x: tf.tensor2d(rows.features, [indices.length, data.numFeatures]),
    y: tf.cast(tf.oneHot(tf.tensor1d(rows.labels, 'int32'), data.numClasses), 'float32') as tf.Tensor2D,
  }));
}

export async function run(config: TrainerConfig): Promise<number> {
  const backend = await selectBackend(config.backend, log);
  // No key=value on stderr either: kubetune reads both streams for metric lines.
  log(`backend: ${backend.name}`);

  const data = config.dataDir !== undefined ? loadDataDir(config.dataDir) : loadMnist();
  const split = splitFor(config, data);
  log(
    `data: ${data.name}, ${data.numSamples} samples, ${split.train.length} for training, ${split.val.length} for validation` +
      (config.folds !== undefined ? ` (fold ${config.fold} of ${config.folds})` : ''),
  );

  const input = { numFeatures: data.numFeatures, numClasses: data.numClasses, imageShape: data.imageShape };
  const model = buildModel(config, input);
  const optimizer = createOptimizer(config);
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const architecture = architectureOf(config, input);

  let startEpoch = 0;
  let lastLine: string | undefined;
  if (config.checkpointDir !== undefined) {
    prepareCheckpointDir(config.checkpointDir);
    const restored = loadCheckpoint(config.checkpointDir, model, architecture);
    if (restored !== undefined) {
      startEpoch = restored.epoch;
      lastLine = restored.lastMetricsLine;
      log(`resumed from ${config.checkpointDir} after epoch ${startEpoch}`);
    }
  }

  const exporter = config.metricsPort !== undefined ? new PrometheusExporter() : undefined;
  if (exporter !== undefined && config.metricsPort !== undefined) {
    try {
      const port = await exporter.listen(config.metricsPort, config.metricsHost);
      log(`serving Prometheus metrics on http://${config.metricsHost}:${port}/metrics`);
    } catch (err) {
      throw new UserError(
        `--metrics-port ${config.metricsPort} on ${config.metricsHost}: ${err instanceof Error ? err.message : String(err)}`,
        1,
      );
    }
  }

  const trainSet = toTensors(data, split.train);
  const valSet = toTensors(data, split.val);
  let exitCode = 0;
  try {
    if (startEpoch >= config.epochs) {
      // A restart after the last epoch: report the final result again so the tuner still sees it.
      log(`checkpoint is already at epoch ${startEpoch} >= --epochs ${config.epochs}; nothing to train`);
      if (lastLine !== undefined) process.stdout.write(`${lastLine}\n`);
    } else {
      await train({
        config,
        model,
        optimizer,
        train: trainSet,
        val: valSet,
        startEpoch,
        onEpoch: (m) => {
          const line = formatMetricLine(m);
          process.stdout.write(`${line}\n`);
          exporter?.update(m);
          if (config.checkpointDir !== undefined) {
            try {
              saveCheckpoint(config.checkpointDir, model, m.epoch, architecture, line);
            } catch (err) {
              throw new UserError(
                `cannot save the checkpoint in ${config.checkpointDir}: ${(err as Error).message}`,
                1,
              );
            }
          }
          if (config.failOnNan && isDiverged(m)) {
            log(`loss diverged at epoch ${m.epoch} (--fail-on-nan): stopping`);
            exitCode = EXIT_DIVERGED;
            return false;
          }
          return true;
        },
      });
    }
  } finally {
    tf.dispose([trainSet.x, trainSet.y, valSet.x, valSet.y]);
    model.dispose();
    optimizer.dispose();
    if (exporter !== undefined) {
      if (config.metricsLingerSeconds > 0) {
        log(`training done; serving metrics for ${config.metricsLingerSeconds}s more`);
        await sleep(config.metricsLingerSeconds * 1000);
      }
      await exporter.close();
    }
  }
  return exitCode;
}
