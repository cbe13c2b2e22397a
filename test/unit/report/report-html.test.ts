// report.html of a real local study, loaded from file:// in headless Chromium: every view draws
// one mark per trial it plots, the table sorts from the keyboard, logs and themes work, and the
// page asks for nothing over the network.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { stringify } from 'yaml';
import {
  CHART_VIEWS,
  chartMarks,
  launchBrowser,
  outputDir,
  requireReportBundle,
  renderCount,
  waitForRenders,
} from '../../support/browser.js';
import { REPO_ROOT, runCli } from '../../support/run-cli.js';

const FAKE = join(REPO_ROOT, 'test/fixtures/fake-trainer.mjs');

interface Trial {
  name: string;
  state: string;
  value?: number;
  params: Record<string, number | string>;
  intermediate: { step: number; value: number }[];
  prunedAtStep?: number;
  logFile: string;
}

/** A sequential study (so its pruning is deterministic) with numeric, log-scale and categorical parameters. */
function writeStudy(dir: string): string {
  const file = join(dir, 'study.yaml');
  const manifest = {
    apiVersion: 'kubetune.io/v1alpha1',
    kind: 'Study',
    metadata: { name: 'report' },
    spec: {
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: { name: 'sobol' },
      // Keeps roughly the best 75% at each step: enough succeeded trials to fit, some pruned.
      earlyStopping: { name: 'percentile', settings: { percentile: 75, startupTrials: 2, warmupSteps: 1 } },
      maxTrials: 14,
      parallelism: 1,
      parameters: [
        { name: 'x', type: 'double', min: 0.001, max: 1, log: true },
        { name: 'y', type: 'double', min: 0, max: 1 },
        { name: 'opt', type: 'categorical', values: ['sgd', 'adam', 'rmsprop'] },
      ],
      trialTemplate: {
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: 'train',
                  command: ['node', FAKE],
                  args: ['--x=${params.x}', '--y=${params.y}', '--epochs=5'],
                },
              ],
            },
          },
        },
      },
    },
  };
  writeFileSync(file, stringify(manifest));
  return file;
}

describe('report.html of a local run', () => {
  let browser: Browser;
  let page: Page;
  let trials: Trial[];
  let out: string;
  const requests: string[] = [];
  const shots = outputDir('report');

  before(async () => {
    requireReportBundle();
    const dir = mkdtempSync(join(tmpdir(), 'kt-report-'));
    out = join(dir, 'out');
    const run = await runCli(['run', writeStudy(dir), '--output', out]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /report\.html/);
    trials = (JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { trials: Trial[] }).trials;
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    await page.setRequestInterception(true);
    page.on('request', (r) => {
      requests.push(r.url());
      void (r.url().startsWith('file://') ? r.continue() : r.abort());
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`file://${join(out, 'report.html')}`);
    await waitForRenders(page, 1);
    assert.deepEqual(errors, []);
  });
  after(async () => browser?.close());

  const succeeded = () => trials.filter((t) => t.state === 'Succeeded');
  const pruned = () => trials.filter((t) => t.state === 'Pruned');
  const marks = async (view: (typeof CHART_VIEWS)[number]) => {
    const section = await page.$(`#view-${view}`);
    await section?.screenshot({ path: join(shots, `${view}.png`) });
    return chartMarks(page, view);
  };

  it('is one file that loads nothing over the network', () => {
    assert.deepEqual(
      requests.filter((u) => !u.startsWith('file://')),
      [],
    );
    assert.equal(requests.length, 1, `only report.html itself is read: ${requests.join(', ')}`);
  });

  it('has a study whose trials both succeeded and were pruned (what the views must show)', () => {
    assert.equal(trials.length, 14);
    assert.ok(succeeded().length >= 4 && pruned().length >= 1, trials.map((t) => t.state).join(' '));
  });

  it('optimization history: a dot per trial with a value and a best-so-far step line', async () => {
    const [dots, best] = await marks('history');
    const withValue = trials.filter((t) => t.value !== undefined);
    assert.deepEqual([dots?.items, dots?.drawn], [withValue.length, withValue.length]);
    const values = succeeded().map((t) => t.value as number);
    const expected = values.map((_, i) => Math.min(...values.slice(0, i + 1)));
    assert.deepEqual(
      best?.values.map((v) => v[1]),
      expected,
    );
    // A step line draws two points per step but the first.
    assert.equal(best?.drawn, 2 * expected.length - 1);
  });

  it('parallel coordinates: a line per succeeded trial over every parameter and the objective', async () => {
    const [lines] = await marks('parallel');
    assert.deepEqual([lines?.items, lines?.drawn], [succeeded().length, succeeded().length]);
    assert.equal(lines?.values[0]?.length, 4);
  });

  it('parameter importance: a bar per parameter, shares summing to 1, method named', async () => {
    const [bars] = await marks('importance');
    assert.deepEqual([bars?.items, bars?.drawn], [3, 3]);
    const sum = (bars?.values ?? []).reduce((s, v) => s + Number(v[0] ?? v), 0);
    assert.ok(Math.abs(sum - 1) < 1e-9, `shares sum to ${sum}`);
    const method = await page.$eval('#view-importance .method', (e) => e.textContent ?? '');
    assert.match(method, /Gaussian-process ARD.*1\/ℓ/);
  });

  it('slice plots: for each parameter, a dot per succeeded trial', async () => {
    const series = await marks('slice');
    assert.deepEqual(
      series.map((s) => [s.name, s.items, s.drawn]),
      ['x', 'y', 'opt'].map((p) => [p, succeeded().length, succeeded().length]),
    );
  });

  it('contour: every succeeded trial falls in exactly one drawn cell', async () => {
    const [cells] = await marks('contour');
    assert.ok(cells && cells.items > 0 && cells.drawn === cells.items);
    assert.equal(
      cells.values.reduce((s, v) => s + Number(v[3]), 0),
      succeeded().length,
    );
  });

  it('learning curves: every reported step drawn, pruned trials marked at their stopping step', async () => {
    const [kept, cut, stops] = await marks('curves');
    const points = (ts: Trial[]) => ts.reduce((s, t) => s + t.intermediate.length, 0);
    assert.equal(kept?.drawn, points(trials.filter((t) => t.state !== 'Pruned')));
    assert.equal(cut?.drawn, points(pruned()));
    const expected = pruned().map((t) => t.prunedAtStep);
    assert.deepEqual(
      stops?.values.map((v) => v[0]),
      expected,
    );
    assert.equal(stops?.drawn, expected.length);
  });

  it('trial table: a row per trial, sorted by the objective from the keyboard', async () => {
    assert.equal(await page.$$eval('#view-table tbody tr', (rows) => rows.length), trials.length);
    const column = 4; // #, trial, state, loss
    const sortByLoss = async () => {
      await page.focus(`#view-table th:nth-child(${column}) button`);
      await page.keyboard.press('Enter');
    };
    const firstTrial = () => page.$eval('#view-table tbody tr td:nth-child(2)', (td) => td.textContent);
    const ordered = succeeded().sort((a, b) => (a.value as number) - (b.value as number));
    await sortByLoss();
    assert.equal(await firstTrial(), ordered[0]?.name);
    assert.equal(
      await page.$eval(`#view-table th:nth-child(${column})`, (th) => th.getAttribute('aria-sort')),
      'ascending',
    );
    await sortByLoss();
    assert.equal(await firstTrial(), ordered.at(-1)?.name);
    assert.equal(
      await page.$eval(`#view-table th:nth-child(${column})`, (th) => th.getAttribute('aria-sort')),
      'descending',
    );
    await (await page.$('#view-table'))?.screenshot({ path: join(shots, 'table.png') });
  });

  it("trial log: picking a trial shows its log file's text", async () => {
    const trial = pruned()[0] as Trial;
    await page.$$eval(
      '#view-table tbody td button',
      (buttons, name) => buttons.find((b) => b.textContent === name)?.click(),
      trial.name,
    );
    await page.waitForSelector(`#log[data-loaded=${JSON.stringify(trial.name)}]`);
    const shown = await page.$eval('#log', (e) => e.textContent);
    assert.equal(shown, readFileSync(trial.logFile, 'utf8'));
    await (await page.$('#view-log'))?.screenshot({ path: join(shots, 'log.png') });
  });

  it('switches between the light and dark theme and redraws every view', async () => {
    const theme = () => page.$eval('html', (e) => e.getAttribute('data-theme'));
    const before = await theme();
    await page.screenshot({ path: join(shots, `page-${before}.png`), fullPage: true });
    const renders = await renderCount(page);
    await page.click('header button');
    await waitForRenders(page, renders + 1);
    assert.notEqual(await theme(), before);
    for (const view of CHART_VIEWS) assert.ok((await chartMarks(page, view)).length > 0, `${view} redrawn`);
    await page.screenshot({ path: join(shots, `page-${await theme()}.png`), fullPage: true });
    // The README's picture is this test's own screenshot, refreshed on request.
    if (process.env.KUBETUNE_UPDATE_SCREENSHOTS === '1')
      copyFileSync(join(shots, 'page-light.png'), join(REPO_ROOT, 'docs/images/report.png'));
  });

  it('kubetune report regenerates the same page from results.json', async () => {
    const regenerated = join(out, 'again.html');
    const res = await runCli(['report', join(out, 'results.json'), '-o', regenerated]);
    assert.equal(res.code, 0, res.stderr);
    const other = await browser.newPage();
    await other.goto(`file://${regenerated}`);
    await waitForRenders(other, 1);
    const [lines] = await chartMarks(other, 'parallel');
    assert.equal(lines?.drawn, succeeded().length);
    await other.close();
  });
});
