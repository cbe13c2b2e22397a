import type { FinalStrategy, MetricsSpec } from '../api/metrics-spec.js';
import { type ObjectiveFields, primaryObjective, trackedMetrics } from '../api/objectives.js';
import type { IntermediateValue } from '../api/trial.js';
import { type LineParser, lineParserFor, type MetricLine } from './line-parsers.js';

export interface CollectorSpec extends ObjectiveFields {
  metrics: Pick<
    MetricsSpec,
    'format' | 'regex' | 'stepKeys' | 'strategy' | 'strategies' | 'maxIntermediateValues' | 'maxLineLength'
  >;
}

export interface CollectorHooks {
  /** A line was not parsed: longer than metrics.maxLineLength. */
  onSkippedLine?(reason: 'too_long'): void;
}

export type FinalResult =
  | { ok: true; objective: number; metrics: Record<string, number> }
  | { ok: false; reason: 'MetricsUnavailable' | 'ObjectiveNotFinite'; message: string };

interface Series {
  last?: number;
  min?: number;
  max?: number;
  count: number;
  nonFinite: number;
}

/**
 * Turns a trial's output, line by line, into intermediate values of the objective and final
 * values of every tracked metric. The same collector serves local processes, pod logs and
 * Prometheus samples, so all three sources agree on what a trial reported.
 */
export class MetricCollector {
  private readonly parse: LineParser;
  private readonly tracked: Set<string>;
  /** The metric whose curve becomes intermediate values: the (first) objective. */
  private readonly primary: string;
  private readonly series = new Map<string, Series>();
  private points: IntermediateValue[] = [];
  private implicitStep = 0;
  /** Lines that looked like output but carried no tracked metric; reported, never fatal. */
  ignoredLines = 0;
  /** Lines longer than metrics.maxLineLength, skipped unparsed so no line can stall parsing. */
  skippedLines = 0;

  constructor(
    private readonly spec: CollectorSpec,
    private readonly hooks: CollectorHooks = {},
  ) {
    this.parse = lineParserFor(spec.metrics);
    this.primary = primaryObjective(spec).metric;
    this.tracked = new Set(trackedMetrics(spec));
  }

  /** Feeds one line; returns the objective's new intermediate point if the line had one. */
  feedLine(line: string): IntermediateValue | undefined {
    if (line.length > this.spec.metrics.maxLineLength) {
      this.skippedLines++;
      this.hooks.onSkippedLine?.('too_long');
      return undefined;
    }
    const parsed = this.parse(line);
    if (!parsed) {
      if (line.trim()) this.ignoredLines++;
      return undefined;
    }
    return this.feedValues(parsed);
  }

  /** Feeds values from a structured source (Prometheus samples). */
  feedValues(values: MetricLine): IntermediateValue | undefined {
    let any = false;
    for (const [name, value] of values) {
      if (!this.tracked.has(name)) continue;
      any = true;
      this.record(name, value);
    }
    if (!any) return undefined;
    const objective = values.get(this.primary);
    if (objective === undefined) return undefined;
    const step = this.stepOf(values);
    if (!Number.isFinite(objective)) return undefined;
    return this.addPoint({ step, value: objective });
  }

  private stepOf(values: MetricLine): number {
    for (const key of this.spec.metrics.stepKeys) {
      const s = values.get(key);
      if (s !== undefined && Number.isFinite(s)) {
        this.implicitStep = s;
        return s;
      }
    }
    return ++this.implicitStep;
  }

  private record(name: string, value: number): void {
    const s = this.series.get(name) ?? { count: 0, nonFinite: 0 };
    s.count++;
    s.last = value;
    if (Number.isFinite(value)) {
      s.min = s.min === undefined ? value : Math.min(s.min, value);
      s.max = s.max === undefined ? value : Math.max(s.max, value);
    } else {
      s.nonFinite++;
    }
    this.series.set(name, s);
  }

  private addPoint(point: IntermediateValue): IntermediateValue {
    // A repeated step (a resumed trial re-reporting) replaces the earlier value.
    const last = this.points[this.points.length - 1];
    if (last && last.step === point.step) this.points[this.points.length - 1] = point;
    else this.points.push(point);
    const cap = this.spec.metrics.maxIntermediateValues;
    if (this.points.length > cap) this.points = thin(this.points, cap);
    return point;
  }

  intermediate(): IntermediateValue[] {
    return [...this.points];
  }

  /** Latest finite value of every tracked metric, as reported so far. */
  latest(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, s] of this.series)
      if (s.last !== undefined && Number.isFinite(s.last)) out[name] = s.last;
    return out;
  }

  /** Final values by strategy; the objective must exist and be finite. */
  final(): FinalResult {
    const metric = this.primary;
    const objective = this.finalOf(metric);
    const s = this.series.get(metric);
    if (objective === undefined || !s) {
      return {
        ok: false,
        reason: 'MetricsUnavailable',
        message: `the trial never reported ${metric}${this.unparsed()}`,
      };
    }
    if (!Number.isFinite(objective)) {
      return { ok: false, reason: 'ObjectiveNotFinite', message: `${metric} ended as ${objective}` };
    }
    const metrics: Record<string, number> = {};
    for (const name of this.tracked) {
      const v = this.finalOf(name);
      if (v !== undefined && Number.isFinite(v)) metrics[name] = v;
    }
    return { ok: true, objective, metrics };
  }

  private unparsed(): string {
    const notes = [
      ...(this.ignoredLines ? [`${this.ignoredLines} output lines had no metric`] : []),
      ...(this.skippedLines
        ? [
            `${this.skippedLines} lines longer than metrics.maxLineLength (${this.spec.metrics.maxLineLength}) were skipped`,
          ]
        : []),
    ];
    return notes.length ? ` (${notes.join('; ')})` : '';
  }

  private finalOf(name: string): number | undefined {
    const s = this.series.get(name);
    if (!s) return undefined;
    const strategy: FinalStrategy = this.spec.metrics.strategies?.[name] ?? this.spec.metrics.strategy;
    // min/max skip NaN reports; if nothing finite was ever reported, the last value tells why.
    if (strategy === 'min') return s.min ?? s.last;
    if (strategy === 'max') return s.max ?? s.last;
    return s.last;
  }
}

/** Keeps every other point of the older part, so the curve's shape and the latest points survive. */
export function thin(points: IntermediateValue[], cap: number): IntermediateValue[] {
  const keepRecent = Math.floor(cap / 2);
  const older = points.slice(0, points.length - keepRecent);
  const recent = points.slice(points.length - keepRecent);
  const thinned = older.filter((_, i) => i % 2 === 0);
  const out = [...thinned, ...recent];
  return out.length > cap ? out.slice(out.length - cap) : out;
}
