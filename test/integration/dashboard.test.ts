// `kubetune dashboard` against the real test cluster, in headless Chromium: the page draws a
// running study, and when a trial ends the page shows it without a reload (server-sent events
// from the dashboard's watch).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import {
  CHART_VIEWS,
  chartMarks,
  launchBrowser,
  outputDir,
  requireReportBundle,
  waitForRenders,
} from '../support/browser.js';
import { runCli } from '../support/run-cli.js';
import { createTestNamespace, kubeconfigPath, waitFor } from './support/cluster.js';
import { gateDir, openGate } from './support/gated-trials.js';
import { createStudy, listTrials, operatorSuite } from './support/operator.js';

const WAIT_MS = 120_000;
const TRIALS = 3;

/** Trials report one step, then wait for their gate file before reporting the last one. */
function gatedCurveStudy(dir: string): Record<string, unknown> {
  const script = [
    'echo epoch=1 loss=0.9',
    `until [ -e ${dir}/\${trial.name} ]; do sleep 0.1; done`,
    'echo epoch=2 loss=${params.x}',
  ].join('; ');
  return {
    objective: { metric: 'loss', goal: 'minimize' },
    algorithm: { name: 'random' },
    parameters: [
      { name: 'x', type: 'double', min: 0, max: 1 },
      { name: 'opt', type: 'categorical', values: ['sgd', 'adam'] },
    ],
    maxTrials: TRIALS,
    parallelism: TRIALS,
    trialTemplate: {
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: 'Never',
            terminationGracePeriodSeconds: 2,
            containers: [{ name: 'train', image: 'kubetune.test/shell', args: [script] }],
          },
        },
      },
    },
  };
}

/** Starts `kubetune dashboard` for a namespace; resolves with its URL once it listens. */
async function startDashboard(namespace: string, t: { after(fn: () => void): void }): Promise<string> {
  const cli = runCli(['dashboard', '--port', '0', '--kubeconfig', kubeconfigPath, '-n', namespace], {
    timeoutMs: 10 * WAIT_MS,
  });
  t.after(() => void cli.child.kill('SIGTERM'));
  cli.catch(() => undefined);
  let out = '';
  return new Promise((resolve, reject) => {
    cli.child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
      if (url) resolve(url);
    });
    cli.child.on('exit', (code) => reject(new Error(`kubetune dashboard exited with ${code}: ${out}`)));
  });
}

interface DrawnTrial {
  name: string;
  state: string;
}
const drawnTrials = (page: Page) =>
  page.evaluate('window.__kubetune.drawn.studies[0].trials') as Promise<DrawnTrial[]>;

describe('kubetune dashboard on the real test cluster', () => {
  const suite = operatorSuite();
  let browser: Browser | undefined;
  after(async () => browser?.close());

  it('draws a running study and shows a trial finishing without a reload', async (t) => {
    requireReportBundle();
    const dir = gateDir(t);
    const ns = await createTestNamespace(t, suite.c, 'dash');
    await createStudy(suite.api, ns, 'curves', gatedCurveStudy(dir));
    suite.start(['--namespaces', ns]);
    const running = () => listTrials(suite.api, ns, 'curves');
    await waitFor(
      async () => (await running()).filter((x) => x.status?.state === 'Running').length === TRIALS,
      WAIT_MS,
      `${TRIALS} trials running`,
    );

    const url = await startDashboard(ns, t);
    browser = await launchBrowser();
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    await page.goto(url);
    await waitForRenders(page, 1);
    assert.deepEqual(
      (await drawnTrials(page)).map((x) => x.state),
      Array<string>(TRIALS).fill('Running'),
    );
    assert.equal(await page.$$eval('#view-table tbody tr', (rows) => rows.length), TRIALS);
    const [dotsBefore] = await chartMarks(page, 'history');
    assert.equal(dotsBefore?.drawn, 0);
    // Gone if the page reloads: what follows must arrive through the open page's event stream.
    await page.evaluate('window.__notReloaded = true');

    const finished = 'curves-0';
    openGate(dir, finished);
    await page.waitForFunction(
      `window.__kubetune.drawn.studies[0].trials.some((t) => t.name === ${JSON.stringify(finished)} && t.state === 'Succeeded')`,
      // A bound for a bug only: the trial's end reaches a working page within moments.
      { timeout: WAIT_MS },
    );
    assert.equal(await page.evaluate('window.__notReloaded'), true);
    const done = (await drawnTrials(page)).filter((x) => x.state === 'Succeeded').length;
    const [dots] = await chartMarks(page, 'history');
    assert.deepEqual([dots?.items, dots?.drawn], [done, done]);
    const [lines] = await chartMarks(page, 'parallel');
    assert.equal(lines?.drawn, done);
    const slices = await chartMarks(page, 'slice');
    assert.deepEqual(
      slices.map((s) => s.drawn),
      [done, done],
    );
    const row = await page.$$eval(
      '#view-table tbody tr',
      (rows, name) => rows.find((r) => r.textContent?.includes(name))?.textContent ?? '',
      finished,
    );
    assert.match(row, /Succeeded/);

    const shots = outputDir('dashboard');
    for (const view of [...CHART_VIEWS, 'table']) {
      await (await page.$(`#view-${view}`))?.screenshot({ path: join(shots, `${view}.png`) });
    }
    await page.$$eval(
      '#view-table tbody td button',
      (buttons, name) => buttons.find((b) => b.textContent === name)?.click(),
      finished,
    );
    await page.waitForSelector(`#log[data-loaded=${JSON.stringify(finished)}]`);
    assert.match((await page.$eval('#log', (e) => e.textContent)) ?? '', /epoch=2 loss=/);
    await (await page.$('#view-log'))?.screenshot({ path: join(shots, 'log.png') });
  });
});
