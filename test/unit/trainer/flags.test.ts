import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFlags, UsageError, type TrainerConfig } from '../../../trainer-image/src/flags.js';

function config(args: string[], env: NodeJS.ProcessEnv = {}): TrainerConfig {
  const r = parseFlags(args, env);
  assert.equal(r.help, false);
  if (r.help) throw new Error('unreachable');
  return r.config;
}

function rejects(args: string[], ...patterns: RegExp[]): void {
  assert.throws(
    () => parseFlags(args, {}),
    (err: unknown) => {
      assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
      assert.equal(err.exitCode, 2);
      for (const p of patterns) assert.match(err.message, p);
      return true;
    },
  );
}

describe('trainer flags', () => {
  it('has sensible defaults and parses every hyperparameter', () => {
    const d = config([]);
    assert.equal(d.model, 'mlp');
    assert.equal(d.optimizer, 'adam');
    assert.equal(d.learningRate, 0.001);
    assert.equal(d.metricsHost, '0.0.0.0');
    const c = config([
      ...['--model', 'cnn', '--layers', '2', '--units', '64', '--filters', '8', '--activation', 'tanh'],
      ...['--dropout', '0.5', '--optimizer', 'momentum', '--lr', '3e-2', '--momentum', '0.8'],
      ...['--weight-decay', '1e-4', '--lr-schedule', 'step', '--lr-decay', '0.1', '--lr-step-epochs', '3'],
      ...['--batch-size', '64', '--epochs', '7', '--seed', '5', '--train-size', '100', '--val-size', '50'],
      ...['--folds', '5', '--fold', '4', '--backend', 'cpu', '--fail-on-nan'],
    ]);
    assert.deepEqual(
      [
        c.model,
        c.layers,
        c.units,
        c.filters,
        c.activation,
        c.dropout,
        c.optimizer,
        c.learningRate,
        c.momentum,
      ],
      ['cnn', 2, 64, 8, 'tanh', 0.5, 'momentum', 0.03, 0.8],
    );
    assert.deepEqual(
      [c.weightDecay, c.lrSchedule, c.lrDecay, c.lrStepEpochs, c.batchSize, c.epochs, c.seed],
      [1e-4, 'step', 0.1, 3, 64, 7, 5],
    );
    assert.deepEqual(
      [c.trainSize, c.valSize, c.folds, c.fold, c.backend, c.failOnNan],
      [100, 50, 5, 4, 'cpu', true],
    );
  });

  it('binds metrics to POD_IP when set', () => {
    assert.equal(config([], { POD_IP: '127.0.0.7' }).metricsHost, '127.0.0.7');
    assert.equal(config(['--metrics-host', '127.0.0.1'], { POD_IP: '127.0.0.7' }).metricsHost, '127.0.0.1');
  });

  it('rejects bad flags naming the flag, the problem and what is allowed', () => {
    rejects(['--learning-rat', '0.1'], /unknown flag --learning-rat/);
    rejects(['--learning-rate', 'fast'], /--learning-rate/, /> 0/, /fast/);
    rejects(['--learning-rate', '0'], /--learning-rate must be a number > 0/);
    rejects(['--learning-rate=-1'], /--learning-rate must be a number > 0/);
    rejects(['--dropout', '1'], /--dropout must be a number in \[0, 1\)/);
    rejects(['--optimizer', 'nadam'], /--optimizer/, /sgd, momentum, adam, rmsprop, adagrad/, /nadam/);
    rejects(['--model', 'rnn'], /--model must be one of mlp, cnn/);
    rejects(['--epochs', '2.5'], /--epochs must be an integer/);
    rejects(['--batch-size', '0x10'], /--batch-size/);
    rejects(['--folds', '3', '--fold', '3'], /--fold must be below --folds/);
    rejects(['--fold', '1'], /--folds and --fold go together/);
    rejects(['--folds', '3', '--fold', '0', '--val-fraction', '0.1'], /--val-fraction cannot be combined/);
    rejects(['--epochs'], /--epochs needs a value/);
    rejects(['extra'], /unexpected argument extra/);
    rejects(['--lr', '1', '--learning-rate', '1'], /only one/);
  });

  it('--help wins', () => {
    assert.deepEqual(parseFlags(['--help', '--lr', '0']), { help: true });
  });
});
