import type { EChartsOption } from 'echarts';
import type { ReportParameter, ReportStudy } from '../model.js';
import { better, formatNumber, succeeded, valueRamp } from './format.js';

/** Cells per numeric axis: fine enough to show a valley, coarse enough to fill with few trials. */
const BINS = 12;

interface Axis {
  labels: string[];
  bin(v: number | string): number;
}

function numericAxis(p: ReportParameter, values: number[]): Axis {
  const f = p.log ? (v: number) => Math.log(v) : (v: number) => v;
  const lo = Math.min(...values.map(f));
  const hi = Math.max(...values.map(f));
  const width = (hi - lo) / BINS || 1;
  const inv = (u: number) => (p.log ? Math.exp(u) : u);
  return {
    labels: Array.from({ length: BINS }, (_, i) =>
      formatNumber(Number(inv(lo + (i + 0.5) * width).toPrecision(3))),
    ),
    bin: (v) => Math.min(BINS - 1, Math.max(0, Math.floor((f(Number(v)) - lo) / width))),
  };
}

function axisFor(p: ReportParameter, values: (number | string)[]): Axis {
  if (p.type === 'categorical') {
    const labels = p.values ?? [];
    return { labels, bin: (v) => labels.indexOf(String(v)) };
  }
  return numericAxis(p, values.map(Number));
}

/**
 * The objective over two parameters: the plane is cut into cells and each cell shows the best
 * value among the trials in it, so no value is invented where no trial ran. Each cell's data
 * is [x, y, best, trials in it].
 */
export function contourOption(s: ReportStudy, xName: string, yName: string): EChartsOption {
  const px = s.parameters.find((p) => p.name === xName) as ReportParameter;
  const py = s.parameters.find((p) => p.name === yName) as ReportParameter;
  const trials = succeeded(s);
  const ax = axisFor(
    px,
    trials.map((t) => t.params[xName] ?? 0),
  );
  const ay = axisFor(
    py,
    trials.map((t) => t.params[yName] ?? 0),
  );
  const cells = new Map<string, [number, number, number, number]>();
  for (const t of trials) {
    const x = ax.bin(t.params[xName] ?? 0);
    const y = ay.bin(t.params[yName] ?? 0);
    const cell = cells.get(`${x},${y}`);
    if (!cell) cells.set(`${x},${y}`, [x, y, t.value, 1]);
    else {
      if (better(s, t.value, cell[2])) cell[2] = t.value;
      cell[3] += 1;
    }
  }
  const values = trials.map((t) => t.value);
  return {
    tooltip: {
      confine: true,
      formatter: (p) => {
        const d = (p as { data: number[] }).data;
        return `best ${formatNumber(d[2])} of ${d[3]} trial(s)`;
      },
    },
    grid: { left: 70, right: 90, top: 10, bottom: 50 },
    xAxis: { type: 'category', name: xName, nameLocation: 'middle', nameGap: 30, data: ax.labels },
    yAxis: { type: 'category', name: yName, data: ay.labels },
    visualMap: {
      type: 'continuous',
      dimension: 2,
      min: Math.min(...values),
      max: Math.max(...values),
      inRange: { color: valueRamp(s) },
      right: 0,
      top: 'middle',
      calculable: true,
      formatter: (v: unknown) => formatNumber(Number(v)),
    },
    series: [{ name: s.metric, type: 'heatmap', data: [...cells.values()] }],
  };
}
