// Seconds per training epoch of the bundled trainer on every TensorFlow.js backend installed here
// (tfjs-node-gpu and tfjs-node only in the image; wasm and cpu everywhere).
//   npm run bench:trainer [-- --epochs 3 --train-size 8000 --model mlp ...extra trainer flags]
// Each backend runs in its own process (tfjs keeps one active backend per process); the figure
// is the median of the per-epoch wall times the trainer reports.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const BACKENDS = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;
const BIN = fileURLToPath(new URL('../trainer-image/bin/kubetune-trainer.js', import.meta.url));

const { values, positionals } = parseArgs({
  options: {
    epochs: { type: 'string', default: '3' },
    'train-size': { type: 'string', default: '8000' },
    model: { type: 'string', default: 'mlp' },
    backends: { type: 'string', default: BACKENDS.join(',') },
  },
  allowPositionals: true,
});

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runTrainer(args: string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const common = [
  ...['--epochs', values.epochs, '--train-size', values['train-size'], '--model', values.model],
  ...positionals,
];
console.log(`# kubetune-trainer seconds per epoch: ${common.join(' ')}`);
for (const backend of values.backends.split(',')) {
  const started = performance.now();
  const r = await runTrainer([...common, '--backend', backend]);
  if (r.code !== 0) {
    const why = /error: (.*)/.exec(r.stderr)?.[1] ?? `exit ${r.code}`;
    console.log(`${backend.padEnd(14)} unavailable (${why})`);
    continue;
  }
  const secs = [...r.stdout.matchAll(/epoch_seconds=(\S+)/g)].map((m) => Number(m[1]));
  const acc = [...r.stdout.matchAll(/val_accuracy=(\S+)/g)].map((m) => Number(m[1])).at(-1);
  const wall = (performance.now() - started) / 1000;
  console.log(
    `${backend.padEnd(14)} ${median(secs).toFixed(2)} s/epoch (median of ${secs.length}; ` +
      `epochs ${secs.map((s) => s.toFixed(2)).join(', ')}; process ${wall.toFixed(1)} s; final val_accuracy ${acc})`,
  );
}
