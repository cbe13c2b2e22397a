/**
 * Report page benchmark: `npm run bench:dashboard [-- --trials N --runs R --screenshot PATH]`.
 *
 * Writes a results.json of N synthetic trials (4 parameters, 10 intermediate values each, a
 * third pruned), turns it into report.html as `kubetune report` does, loads that in headless
 * Chromium R times and prints the median time from navigation start until every view has
 * finished drawing (the page's own measurement). Target: under 2 s for 10,000 trials.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { StudyResults } from '../../src/local/results.js';
import { StudySpec } from '../../src/api/study.js';
import { readResults, writeReport } from '../../src/report/local-report.js';
import { launchBrowser, requireReportBundle } from '../../test/support/browser.js';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '5' },
    screenshot: { type: 'string' },
  },
});
const N = Number(values.trials);
const RUNS = Number(values.runs);
const OUT = join('bench/results/dashboard');

/** A fixed pseudo-random sequence (no seed state to carry): the same file every time. */
const frac = (i: number, k: number) => (Math.sin(i * 12.9898 + k * 78.233) * 43758.5453) % 1;
const u = (i: number, k: number) => Math.abs(frac(i, k));

function results(n: number): StudyResults {
  const spec = StudySpec.parse({
    objective: { metric: 'loss', goal: 'minimize' },
    algorithm: { name: 'random' },
    maxTrials: n,
    parameters: [
      { name: 'lr', type: 'double', min: 1e-5, max: 1, log: true },
      { name: 'dropout', type: 'double', min: 0, max: 0.5 },
      { name: 'units', type: 'int', min: 16, max: 512 },
      { name: 'optimizer', type: 'categorical', values: ['sgd', 'adam', 'rmsprop'] },
    ],
    trialTemplate: { spec: { template: { spec: { containers: [{ name: 't', image: 'x' }] } } } },
  });
  const trials = Array.from({ length: n }, (_, i) => {
    const lr = 10 ** (-5 + 5 * u(i, 1));
    const params = {
      lr,
      dropout: 0.5 * u(i, 2),
      units: 16 + Math.floor(496 * u(i, 3)),
      optimizer: ['sgd', 'adam', 'rmsprop'][i % 3] as string,
    };
    const final = (Math.log10(lr) + 2.5) ** 2 / 6 + (params.dropout - 0.2) ** 2 + 0.1 * u(i, 4);
    const pruned = i % 3 === 2;
    const steps = pruned ? 4 : 10;
    const intermediate = Array.from({ length: steps }, (_, s) => ({
      step: s + 1,
      value: final + 1 / (s + 1),
    }));
    const start = Date.UTC(2026, 0, 1) + i * 60_000;
    return {
      name: `bench-${i}`,
      index: i,
      params,
      formattedParams: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])),
      state: pruned ? ('Pruned' as const) : ('Succeeded' as const),
      ...(pruned ? { prunedAtStep: steps, reason: 'Pruned' } : { value: final }),
      metrics: {},
      intermediate,
      startTime: new Date(start).toISOString(),
      completionTime: new Date(start + 30_000 + 1000 * steps).toISOString(),
      logFile: join(OUT, 'logs', `bench-${i}.log`),
    };
  });
  return {
    study: 'bench',
    spec,
    outcome: { done: true, succeeded: true, reason: 'MaxTrialsReached', message: '' },
    interrupted: false,
    trials,
  } as unknown as StudyResults;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

requireReportBundle();
mkdirSync(OUT, { recursive: true });
const file = join(OUT, 'results.json');
writeFileSync(file, JSON.stringify(results(N)));
const t0 = performance.now();
const html = writeReport(OUT, readResults(file), join(OUT, 'report.html'));
const writeMs = performance.now() - t0;

const browser = await launchBrowser();
const times: number[] = [];
const busy: number[] = [];
try {
  for (let r = 0; r < RUNS; r++) {
    const page = await browser.newPage();
    const cdp = await page.createCDPSession();
    // Task durations in thread CPU time: what the page costs, apart from waiting for a CPU.
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
    await page.setViewport({ width: 1400, height: 1000 });
    await page.goto(`file://${join(process.cwd(), html)}`);
    await page.waitForFunction('window.__kubetune && window.__kubetune.renders >= 1', { timeout: 0 });
    times.push((await page.evaluate('window.__kubetune.drawnAtMs')) as number);
    const { metrics } = await cdp.send('Performance.getMetrics');
    busy.push((metrics.find((m) => m.name === 'TaskDuration')?.value ?? NaN) * 1000);
    if (r === 0 && values.screenshot) await page.screenshot({ path: values.screenshot, fullPage: true });
    await page.close();
  }
} finally {
  await browser.close();
}
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const ms = (x: number) => `${x.toFixed(0)} ms`;
console.log(
  `${N} trials, report.html ${(readFileSync(html).length / 1e6).toFixed(1)} MB, written in ${ms(writeMs)} (Node: read results.json, GP importance, inline)`,
);
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${cpus().length} CPUs\n`,
);
console.log(row(['in headless Chromium', 'median', 'min', 'max', 'runs']));
console.log(row(['---', '---:', '---:', '---:', '---:']));
console.log(
  row([
    'navigation start → every view drawn (wall clock)',
    ms(median(times)),
    ms(Math.min(...times)),
    ms(Math.max(...times)),
    String(RUNS),
  ]),
);
console.log(
  row([
    'main-thread CPU time (thread ticks) until then',
    ms(median(busy)),
    ms(Math.min(...busy)),
    ms(Math.max(...busy)),
    String(RUNS),
  ]),
);
