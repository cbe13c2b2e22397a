// Main-thread costs: the bounded parsers next to the backtracking patterns they replaced, on
// the inputs that made those slow (and on an ordinary line, which is what choosing RE2 costs),
// and handing a long history to a worker thread, cloned as objects or packed.
import { placeholdersIn } from '../../src/api/placeholders.js';
import { compileMetricPattern } from '../../src/metrics/metric-pattern.js';
import { parseNumber } from '../../src/metrics/numbers.js';
import { packTrials } from '../../src/operator/compute/packed-trials.js';

const OLD_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const OLD_PLACEHOLDER = /\$(\$?)\{([^}]*)\}/g;

/** Median milliseconds of `f` over `reps` calls. */
function time(f: () => unknown, reps: number): number {
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    f();
    xs.push(performance.now() - t);
  }
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)] as number;
}

const fmt = (ms: number) => (ms < 0.1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(1)} ms`);

export function mainThreadTable(): string {
  const source = String.raw`(?<name>\w+)=(?<value>\S+)`;
  const v8 = new RegExp(source, 'g');
  const re2 = compileMetricPattern(source);
  const ordinary = 'epoch=3 loss=0.2994 val_loss=0.31 val_accuracy=0.912 lr=1e-3';
  const rows: [string, number, number][] = [
    [
      'metrics.regex `(?<name>\\w+)=(?<value>\\S+)`, ordinary 60-char line',
      time(() => [...ordinary.matchAll(v8)], 2001),
      time(() => [...re2.matchAll(ordinary)], 2001),
    ],
  ];
  for (const n of [20_000, 65_536]) {
    const line = 'a'.repeat(n);
    rows.push([
      `same pattern, ${n} letters without "="`,
      time(() => [...line.matchAll(v8)], 3),
      time(() => [...re2.matchAll(line)], 3),
    ]);
  }
  const notNumber = `${'1'.repeat(65_536)}x`;
  rows.push([
    'number pattern, 64 KiB of digits then "x"',
    time(() => OLD_NUMBER.test(notNumber), 3),
    time(() => parseNumber(notNumber), 3),
  ]);
  const dollars = '${'.repeat(20_000);
  rows.push([
    'placeholder scan, 40 KB of "${"',
    time(() => [...dollars.matchAll(OLD_PLACEHOLDER)], 3),
    time(() => placeholdersIn(dollars), 3),
  ]);
  const trials = Array.from({ length: 2000 }, (_, index) => ({
    index,
    params: { x: index / 2000, y: 1 - index / 2000 },
    state: 'Succeeded' as const,
    value: index,
    intermediate: Array.from({ length: 200 }, (_, step) => ({ step, value: step / (index + 1) })),
  }));
  const { port1 } = new MessageChannel();
  rows.push([
    'handing 2,000 trials × 200 points to a worker (postMessage)',
    time(() => port1.postMessage({ trials }), 5),
    time(() => {
      const { packed, transfer } = packTrials(trials);
      port1.postMessage({ trials: packed }, transfer);
    }, 5),
  ]);
  port1.close();
  return [
    '| input | before | now |',
    '|---|---|---|',
    ...rows.map(([what, before, now]) => `| ${what} | ${fmt(before)} | ${fmt(now)} |`),
  ].join('\n');
}
