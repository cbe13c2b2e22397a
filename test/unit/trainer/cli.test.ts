// End-to-end runs of the trainer CLI on the wasm backend with small MNIST subsets (about a
// second per epoch on 2 cores) and a tiny generated --data-dir dataset.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatMetricLine, isDiverged } from '../../../trainer-image/src/metrics.js';
import { metricLines, QUICK, runTrainer, writeTinyDataset } from './helpers.js';

let work: string;
let tiny: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'kubetune-trainer-test-'));
  tiny = join(work, 'tiny');
  mkdirSync(tiny);
  writeTinyDataset(tiny, 400);
});

after(() => rmSync(work, { recursive: true, force: true }));

describe('kubetune-trainer CLI', { concurrency: 2 }, () => {
  it('trains 2 epochs on wasm, prints one metric line per epoch and exits 0', async () => {
    const r = await runTrainer(['--epochs', '2', '--learning-rate', '0.01', ...QUICK]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /backend: wasm/);
    // kubetune parses stderr too: nothing there may look like a numeric metric.
    assert.doesNotMatch(r.stderr, /(^|[\s,;|])[A-Za-z_][\w./-]*\s*=\s*[-+.\d]/m);
    const lines = metricLines(r.stdout);
    assert.deepEqual(
      lines.map((l) => l.epoch),
      [1, 2],
    );
    for (const l of lines) {
      for (const key of ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'lr']) {
        assert.ok(Number.isFinite(l[key]), `${key} missing in ${JSON.stringify(l)}`);
      }
    }
  });

  it('beats chance by a wide margin with lr 1e-3, and lr 10 does worse', async () => {
    const [good, bad] = await Promise.all([
      runTrainer(['--epochs', '1', '--learning-rate', '1e-3', ...QUICK]),
      runTrainer(['--epochs', '1', '--learning-rate', '10', ...QUICK]),
    ]);
    assert.equal(good.code, 0, good.stderr);
    assert.equal(bad.code, 0, bad.stderr);
    const g = metricLines(good.stdout).at(-1)!;
    const b = metricLines(bad.stdout).at(-1)!;
    assert.ok(g.val_accuracy! > 0.7, `val_accuracy ${g.val_accuracy} with lr 1e-3`);
    assert.ok(
      b.val_accuracy! < g.val_accuracy! - 0.2,
      `lr 10 reached ${b.val_accuracy} vs ${g.val_accuracy}`,
    );
    assert.ok(!(b.val_loss! <= g.val_loss!), 'lr 10 should not have a lower val_loss');
  });

  it('rejects bad flags with exit code 2 and a message naming the flag, without a stack trace', async () => {
    const cases = [
      [['--learning-rate', '-0.5'], /--learning-rate needs a value/],
      [['--learning-rate=0'], /--learning-rate must be a number > 0; got 0/],
      [['--dropout', '1.5'], /--dropout must be a number in \[0, 1\); got 1\.5/],
      [
        ['--optimizer', 'lbfgs'],
        /--optimizer must be one of sgd, momentum, adam, rmsprop, adagrad; got 'lbfgs'/,
      ],
      [['--batch-size', 'big'], /--batch-size must be an integer/],
      [['--folds', '4', '--fold', '4'], /--fold must be below --folds/],
      [['--no-such-flag'], /unknown flag --no-such-flag/],
    ] as const;
    const results = await Promise.all(cases.map(([args]) => runTrainer(args)));
    cases.forEach(([args, pattern], i) => {
      const r = results[i]!;
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}`);
      assert.match(r.stderr, pattern);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace for a user error');
      assert.equal(r.stdout, '');
    });
  });

  it('prints usage for --help', async () => {
    const r = await runTrainer(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: kubetune-trainer/);
    for (const flag of [
      '--learning-rate',
      '--batch-size',
      '--optimizer',
      '--dropout',
      '--layers',
      '--units',
      '--model',
    ]) {
      assert.ok(r.stdout.includes(flag), `--help does not mention ${flag}`);
    }
  });

  it('resumes from a checkpoint: a second run with --epochs 3 trains only epoch 3', async () => {
    const dir = join(work, 'ckpt');
    const first = await runTrainer(['--epochs', '2', '--checkpoint-dir', dir, ...QUICK]);
    assert.equal(first.code, 0, first.stderr);
    const firstLines = metricLines(first.stdout);
    assert.deepEqual(
      firstLines.map((l) => l.epoch),
      [1, 2],
    );

    const second = await runTrainer(['--epochs', '3', '--checkpoint-dir', dir, ...QUICK]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /resumed .* after epoch 2/);
    const lines = metricLines(second.stdout);
    assert.deepEqual(
      lines.map((l) => l.epoch),
      [3],
    );
    // Started from trained weights, not from scratch.
    assert.ok(lines[0]!.val_loss! < firstLines[0]!.val_loss!, 'epoch 3 should improve on a fresh epoch 1');

    // A restart after the last epoch trains nothing and reports the saved final line again.
    const again = await runTrainer(['--epochs', '3', '--checkpoint-dir', dir, ...QUICK]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, second.stdout);

    const other = await runTrainer(['--epochs', '4', '--units', '64', '--checkpoint-dir', dir, ...QUICK]);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /holds a different model \(units: saved 128, requested 64\)/);
  });

  it('trains on a --data-dir CSV dataset, as an MLP and as a CNN, and with k-fold', async () => {
    const [mlp, cnn, fold] = await Promise.all([
      runTrainer(['--data-dir', tiny, '--epochs', '3', '--lr', '0.01', '--backend', 'wasm']),
      runTrainer([
        ...['--data-dir', tiny, '--epochs', '3', '--lr', '0.01', '--backend', 'wasm'],
        ...['--model', 'cnn', '--layers', '2', '--filters', '4', '--units', '16'],
      ]),
      runTrainer(['--data-dir', tiny, '--epochs', '2', '--lr', '0.01', '--folds', '4', '--fold', '3']),
    ]);
    for (const r of [mlp, cnn, fold]) assert.equal(r.code, 0, r.stderr);
    assert.ok(metricLines(mlp.stdout).at(-1)!.val_accuracy! > 0.9, mlp.stdout);
    assert.ok(metricLines(cnn.stdout).at(-1)!.val_accuracy! > 0.6, cnn.stdout);
    assert.match(fold.stderr, /400 samples, 300 for training, 100 for validation \(fold 3 of 4\)/);
  });

  it('refuses an unusable --checkpoint-dir before training', async () => {
    const r = await runTrainer(['--data-dir', tiny, '--checkpoint-dir', join(tiny, 'data.csv', 'ckpt')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--checkpoint-dir .*: cannot write there \(ENOTDIR/);
    assert.equal(r.stdout, '');
  });

  it('is deterministic for a seed (split, shuffling, init and dropout)', async () => {
    const args = ['--data-dir', tiny, '--epochs', '2', '--dropout', '0.5', '--backend', 'wasm'];
    const [a, b, c] = await Promise.all([
      runTrainer([...args, '--seed', '3']),
      runTrainer([...args, '--seed', '3']),
      runTrainer([...args, '--seed', '4']),
    ]);
    const strip = (out: string) => out.replace(/ epoch_seconds=\S+/g, '');
    assert.equal(strip(a.stdout), strip(b.stdout));
    assert.notEqual(strip(a.stdout), strip(c.stdout));
  });

  it('serves the metrics on a Prometheus endpoint with trial labels and lingers', async () => {
    let resolvePort: (port: number) => void;
    const portPromise = new Promise<number>((resolve) => (resolvePort = resolve));
    let scraped: Promise<string> | undefined;
    const run = runTrainer(
      [
        ...['--data-dir', tiny, '--epochs', '2', '--backend', 'wasm'],
        ...['--metrics-port', '0', '--metrics-host', '127.0.0.1', '--metrics-linger-seconds', '3'],
      ],
      {
        env: { KUBETUNE_STUDY: 'study-a', KUBETUNE_TRIAL: 'trial-7' },
        onStderr: (chunk) => {
          const m = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(chunk);
          if (m) resolvePort(Number(m[1]));
          if (chunk.includes('serving metrics for')) {
            // Training is over; the final values must still be scrapeable.
            scraped = portPromise.then((port) =>
              fetch(`http://127.0.0.1:${port}/metrics`).then((res) => res.text()),
            );
          }
        },
      },
    );
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(scraped !== undefined, 'no linger phase seen');
    const body = await scraped;
    const last = metricLines(r.stdout).at(-1)!;
    assert.match(body, /kubetune_trainer_epoch\{study="study-a",trial="trial-7"\} 2/);
    const acc = /kubetune_trainer_val_accuracy\{study="study-a",trial="trial-7"\} (\S+)/.exec(body);
    assert.ok(acc, body);
    assert.ok(Math.abs(Number(acc[1]) - last.val_accuracy!) < 1e-4);
    assert.match(body, /kubetune_trainer_loss\{/);
    assert.match(body, /kubetune_trainer_val_loss\{/);
  });

  it('formats a diverged epoch honestly as NaN', () => {
    const m = {
      epoch: 4,
      loss: NaN,
      accuracy: 0.1,
      val_loss: Infinity,
      val_accuracy: 0.1,
      lr: 10,
      epoch_seconds: 1,
    };
    const line = formatMetricLine(m);
    assert.match(line, /^epoch=4 loss=NaN accuracy=0\.1 val_loss=Infinity /);
    assert.ok(isDiverged(m));
    assert.ok(!isDiverged({ ...m, loss: 0.3, val_loss: 0.2 }));
    assert.equal(metricLines(line)[0]!.loss, NaN);
  });
});
