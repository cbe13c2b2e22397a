import type { EChartsOption } from 'echarts';
import type { ReportParameter, ReportStudy } from '../model.js';
import { axisType, better, formatNumber, hasValue, OKABE_ITO, succeeded, valueRamp } from './format.js';

const TOOLTIP = { trigger: 'item', confine: true } as const;
/**
 * Above this many points a scatter series is drawn as one path instead of one graphic per point:
 * 10,000 trials draw in one frame rather than in chunks over many.
 */
const LARGE = { large: true, largeThreshold: 2000 } as const;

/** Each trial's value against its index, and the best value so far as a step line. */
export function historyOption(s: ReportStudy): EChartsOption {
  const points = s.trials.filter(hasValue).map((t) => [t.index, t.value, t.name, t.state]);
  const best: [number, number][] = [];
  let current: number | undefined;
  for (const t of succeeded(s)) {
    if (current === undefined || better(s, t.value, current)) current = t.value;
    best.push([t.index, current]);
  }
  return {
    color: OKABE_ITO,
    tooltip: { ...TOOLTIP, formatter: (p) => tip(p as Tip) },
    legend: { top: 0 },
    grid: { left: 60, right: 20, top: 30, bottom: 40 },
    xAxis: { type: 'value', name: 'trial', nameLocation: 'middle', nameGap: 25, minInterval: 1 },
    yAxis: { type: 'value', name: s.metric, scale: true },
    series: [
      { name: s.metric, type: 'scatter', symbolSize: 6, data: points, ...LARGE },
      { name: 'best so far', type: 'line', step: 'end', showSymbol: false, data: best },
    ],
  };
}

interface Tip {
  data: unknown[];
  seriesName: string;
}
function tip(p: Tip): string {
  const [x, y, name] = p.data;
  return `${String(name ?? '')}<br>${p.seriesName}: ${formatNumber(Number(y))} (x ${formatNumber(Number(x))})`;
}

/** One line per succeeded trial across every parameter and the objective. */
export function parallelOption(s: ReportStudy): EChartsOption {
  const dims = s.parameters;
  const trials = succeeded(s);
  const values = trials.map((t) => t.value);
  return {
    parallel: { left: 50, right: 80, top: 40, bottom: 30 },
    parallelAxis: [
      ...dims.map((p, i) => ({
        dim: i,
        name: p.name,
        type: axisType(p),
        ...(p.values ? { data: p.values } : { scale: true }),
      })),
      { dim: dims.length, name: s.metric, type: 'value' as const, scale: true },
    ],
    visualMap: {
      type: 'continuous',
      dimension: dims.length,
      min: Math.min(...values),
      max: Math.max(...values),
      inRange: { color: valueRamp(s) },
      right: 0,
      bottom: 30,
      itemHeight: 120,
      calculable: true,
      formatter: (v: unknown) => formatNumber(Number(v)),
    },
    series: [
      {
        name: 'trials',
        type: 'parallel',
        lineStyle: { width: 1, opacity: 0.45 },
        data: trials.map((t) => [...dims.map((p) => t.params[p.name] ?? ''), t.value]),
        // Drawn in one frame: chunks across frames took longer in all than drawing it at once.
        progressive: 0,
      },
    ],
  };
}

/** Importance per parameter as horizontal bars, largest on top. */
export function importanceOption(s: ReportStudy): EChartsOption {
  const scores = Object.entries(s.importance?.scores ?? {}).sort((a, b) => a[1] - b[1]);
  return {
    color: OKABE_ITO,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 120, right: 30, top: 10, bottom: 30 },
    xAxis: { type: 'value', max: 1, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)}%` } },
    yAxis: { type: 'category', data: scores.map(([name]) => name) },
    series: [{ name: 'importance', type: 'bar', data: scores.map(([, v]) => v) }],
  };
}

/** The objective against each parameter on its own, one small plot per parameter. */
export function sliceOption(s: ReportStudy): EChartsOption {
  const n = s.parameters.length;
  const cols = Math.min(3, Math.max(1, n));
  const rows = Math.ceil(n / cols);
  const trials = succeeded(s);
  const cell = (i: number) => ({
    left: `${(100 / cols) * (i % cols) + 7}%`,
    width: `${100 / cols - 10}%`,
    top: `${(100 / rows) * Math.floor(i / cols) + 6}%`,
    height: `${100 / rows - 16}%`,
  });
  const slice = (p: ReportParameter) => trials.map((t) => [t.params[p.name] ?? '', t.value, t.name, t.state]);
  return {
    color: OKABE_ITO,
    tooltip: { ...TOOLTIP, formatter: (p) => tip(p as Tip) },
    grid: s.parameters.map((_, i) => cell(i)),
    xAxis: s.parameters.map((p, i) => ({
      gridIndex: i,
      type: axisType(p),
      name: p.name,
      nameLocation: 'middle' as const,
      nameGap: 22,
      ...(p.values ? { data: p.values } : { scale: true }),
    })),
    yAxis: s.parameters.map((_, i) => ({ gridIndex: i, type: 'value' as const, scale: true })),
    visualMap: {
      show: false,
      dimension: 1,
      min: minOf(trials),
      max: maxOf(trials),
      inRange: { color: valueRamp(s) },
    },
    series: s.parameters.map((p, i) => ({
      name: p.name,
      type: 'scatter' as const,
      xAxisIndex: i,
      yAxisIndex: i,
      symbolSize: 5,
      data: slice(p),
      ...LARGE,
    })),
  };
}

const minOf = (ts: { value: number }[]) => ts.reduce((m, t) => Math.min(m, t.value), Infinity);
const maxOf = (ts: { value: number }[]) => ts.reduce((m, t) => Math.max(m, t.value), -Infinity);

/** Learning curves from intermediate values; a pruned trial's curve ends in a marker at its stop. */
export function curvesOption(s: ReportStudy): EChartsOption {
  // One series per kind of curve, with a gap between trials, draws 10,000 curves as two paths.
  const kept: (number[] | string)[] = [];
  const pruned: (number[] | string)[] = [];
  const stops: (number | string)[][] = [];
  for (const t of s.trials) {
    if (t.intermediate.length === 0) continue;
    const into = t.state === 'Pruned' ? pruned : kept;
    for (const p of t.intermediate) into.push([p.step, p.value]);
    into.push('-');
    if (t.state === 'Pruned' && t.prunedAtStep !== undefined) {
      const at = t.intermediate.filter((p) => p.step <= (t.prunedAtStep as number)).at(-1);
      if (at) stops.push([t.prunedAtStep, at.value, t.name]);
    }
  }
  const line = {
    type: 'line' as const,
    showSymbol: false,
    connectNulls: false,
    lineStyle: { width: 1, opacity: 0.6 },
  };
  return {
    color: [OKABE_ITO[0] as string, OKABE_ITO[1] as string, OKABE_ITO[5] as string],
    tooltip: { ...TOOLTIP },
    legend: { top: 0 },
    grid: { left: 60, right: 20, top: 30, bottom: 40 },
    xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 25 },
    yAxis: { type: 'value', name: s.metric, scale: true },
    series: [
      { ...line, name: 'not pruned', data: kept },
      { ...line, name: 'pruned', data: pruned },
      { name: 'pruned at', type: 'scatter', symbol: 'diamond', symbolSize: 9, data: stops, ...LARGE },
    ],
  };
}
