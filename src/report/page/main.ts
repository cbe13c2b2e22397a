import { BarChart, HeatmapChart, LineChart, ParallelChart, ScatterChart } from 'echarts/charts';
import {
  GridComponent,
  LegendComponent,
  ParallelComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import type { ReportData, ReportStudy } from '../model.js';
import { contourOption } from './contour.js';
import { curvesOption, historyOption, importanceOption, parallelOption, sliceOption } from './charts.js';
import { succeeded } from './format.js';
import { STYLE } from './style.js';
import { PAGE_ROWS, renderTable, type TableState } from './table.js';
import { layout, showLog, type Views } from './layout.js';

echarts.use([
  BarChart,
  HeatmapChart,
  LineChart,
  ParallelChart,
  ScatterChart,
  GridComponent,
  LegendComponent,
  ParallelComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

export type ChartView = 'history' | 'parallel' | 'importance' | 'slice' | 'contour' | 'curves';

/** What tests and the benchmark read: the live charts and how many full renders have finished. */
interface PageState {
  data: ReportData;
  study: string;
  charts: Partial<Record<ChartView, echarts.EChartsType>>;
  renders: number;
  /** The data the last finished render drew, and when it finished (ms since navigation). */
  drawn?: ReportData;
  drawnAtMs?: number;
}
declare global {
  interface Window {
    __kubetune: PageState;
  }
}

type Theme = 'light' | 'dark';
let theme: Theme = matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
let views: Views;
const table: TableState = { column: 0, descending: false, shown: PAGE_ROWS };
let contourAxes: [string, string] | undefined;

function current(): ReportStudy | undefined {
  const { data, study } = window.__kubetune;
  return data.studies.find((s) => s.id === study) ?? data.studies[0];
}

function options(s: ReportStudy): Partial<Record<ChartView, echarts.EChartsCoreOption>> {
  const ok = succeeded(s).length > 0;
  const out: Partial<Record<ChartView, echarts.EChartsCoreOption>> = { history: historyOption(s) };
  if (ok && s.parameters.length > 0) out.parallel = parallelOption(s);
  if (ok && s.parameters.length > 0) out.slice = sliceOption(s);
  if (s.importance) out.importance = importanceOption(s);
  if (ok && contourAxes) out.contour = contourOption(s, contourAxes[0], contourAxes[1]);
  out.curves = curvesOption(s);
  return out;
}

/** Draws every view of the current study; counts a render once every chart has finished drawing. */
function render(): void {
  const state = window.__kubetune;
  const s = current();
  for (const chart of Object.values(state.charts)) chart.dispose();
  state.charts = {};
  if (!s) return;
  contourAxes = views.update(s, theme, contourAxes);
  const pending: Promise<void>[] = [];
  for (const [view, option] of Object.entries(options(s)) as [ChartView, echarts.EChartsCoreOption][]) {
    const chart = echarts.init(views.chart(view), theme === 'dark' ? 'dark' : undefined);
    pending.push(new Promise((resolve) => chart.on('finished', () => resolve())));
    chart.setOption({ backgroundColor: 'transparent', animation: false, ...option });
    state.charts[view] = chart;
  }
  renderTrials(s);
  const data = state.data;
  void Promise.all(pending).then(() => {
    state.drawn = data;
    state.drawnAtMs = performance.now();
    state.renders += 1;
  });
}

function renderTrials(s: ReportStudy): void {
  renderTable(views.table, s, table, {
    sort: (column) => {
      table.descending = table.column === column ? !table.descending : false;
      table.column = column;
      renderTrials(s);
      views.table.querySelector<HTMLButtonElement>(`th:nth-child(${column + 1}) button`)?.focus();
    },
    select: (name) => {
      table.selected = name;
      renderTrials(s);
      void showLog(views.log, s, name);
    },
    more: () => {
      table.shown += PAGE_ROWS;
      renderTrials(s);
    },
  });
}

function start(): void {
  const data = JSON.parse(document.getElementById('kubetune-data')?.textContent ?? '{}') as ReportData;
  window.__kubetune = { data, study: data.studies[0]?.id ?? '', charts: {}, renders: 0 };
  const style = document.createElement('style');
  style.textContent = STYLE;
  document.head.append(style);
  document.documentElement.dataset.theme = theme;
  views = layout(document.body, {
    studies: () => window.__kubetune.data.studies,
    pickStudy: (id) => {
      window.__kubetune.study = id;
      contourAxes = undefined;
      render();
    },
    toggleTheme: () => {
      theme = theme === 'dark' ? 'light' : 'dark';
      document.documentElement.dataset.theme = theme;
      render();
    },
    pickContour: (axes) => {
      contourAxes = axes;
      render();
    },
  });
  addEventListener('resize', () => Object.values(window.__kubetune.charts).forEach((c) => c.resize()));
  render();
  if (data.eventsUrl) {
    // The dashboard pushes a whole fresh snapshot on every change; the page just redraws it.
    new EventSource(data.eventsUrl).addEventListener('message', (e: MessageEvent<string>) => {
      window.__kubetune.data = JSON.parse(e.data) as ReportData;
      render();
    });
  }
}

start();
