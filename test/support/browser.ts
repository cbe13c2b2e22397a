// Headless Chromium for the report and dashboard tests: Debian's chromium package driven by
// puppeteer-core, which never downloads a browser of its own.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { REPO_ROOT } from './run-cli.js';

export const CHART_VIEWS = ['history', 'importance', 'parallel', 'slice', 'contour', 'curves'] as const;
export type ChartView = (typeof CHART_VIEWS)[number];

/** Where screenshots go: $KUBETUNE_TEST_OUTPUT, else test-output/ (gitignored). */
export function outputDir(sub: string): string {
  const dir = join(process.env.KUBETUNE_TEST_OUTPUT ?? join(REPO_ROOT, 'test-output'), sub);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function chromiumPath(): string {
  const path = process.env.KUBETUNE_TEST_CHROMIUM ?? '/usr/bin/chromium';
  assert.ok(
    existsSync(path),
    `no browser at ${path}: install Chromium (Debian: apt-get install chromium, or bash scripts/ensure-test-deps.sh) or set KUBETUNE_TEST_CHROMIUM to its binary`,
  );
  return path;
}

export function requireReportBundle(): void {
  assert.ok(
    existsSync(join(REPO_ROOT, 'dist/report/page.js')),
    'the report page is not built (dist/report/page.js is missing): run npm run build',
  );
}

export async function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Chromium refuses to start its sandbox as root (containers, CI); the pages it loads here are
    // the tests' own, so running unsandboxed is safe.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

const RENDER_BOUND_MS = 120_000;

/** Waits until the page has finished `renders` full renders (every chart drew). */
export async function waitForRenders(page: Page, renders: number): Promise<void> {
  // A bound for a bug only (a view that never finishes drawing), not a timing assertion.
  await page.waitForFunction(`window.__kubetune && window.__kubetune.renders >= ${renders}`, {
    timeout: RENDER_BOUND_MS,
  });
}

export async function renderCount(page: Page): Promise<number> {
  return page.evaluate('window.__kubetune.renders') as Promise<number>;
}

/** Per series of a chart: its type, how many data items it has, and how many it drew. */
export interface SeriesMarks {
  name: string;
  type: string;
  items: number;
  /** Items with their own graphic (a dot, bar, line, cell), or points of a drawn line. */
  drawn: number;
  /** Data values of each item (first `dims` dimensions). */
  values: unknown[][];
}

/**
 * Reads what a chart actually drew, from ECharts' own scene graph: a scatter dot, bar, heatmap
 * cell or parallel-coordinates line is one graphic per item; a line series is a polyline whose
 * points are counted.
 */
// Plain JavaScript, passed as text: tsx would wrap named functions in a helper the page lacks.
const CHART_MARKS = `(view) => {
  const chart = window.__kubetune.charts[view];
  if (!chart) return [];
  const polylinePoints = (el) => {
    let n = 0;
    if (el.type === 'ec-polyline' && el.shape && el.shape.points) {
      const p = el.shape.points;
      for (let i = 0; i + 1 < p.length; i += 2) if (Number.isFinite(p[i]) && Number.isFinite(p[i + 1])) n++;
    }
    for (const c of (el.childrenRef ? el.childrenRef() : [])) n += polylinePoints(c);
    return n;
  };
  return chart.getModel().getSeries().map((s) => {
    const data = s.getData();
    const values = [];
    let drawn = 0;
    for (let i = 0; i < data.count(); i++) {
      values.push(data.getValues(i));
      if (data.getItemGraphicEl(i)) drawn++;
    }
    if (s.subType === 'line') drawn = polylinePoints(chart.getViewOfSeriesModel(s).group);
    return { name: s.name, type: s.subType, items: data.count(), drawn, values };
  });
}`;

/**
 * Reads what a chart actually drew, from ECharts' own scene graph: a scatter dot, bar, heatmap
 * cell or parallel-coordinates line is one graphic per item; a line series is a polyline whose
 * points are counted.
 */
export async function chartMarks(page: Page, view: ChartView): Promise<SeriesMarks[]> {
  return page.evaluate(`(${CHART_MARKS})(${JSON.stringify(view)})`) as Promise<SeriesMarks[]>;
}
