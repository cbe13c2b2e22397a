import type { MetricsSpec } from '../api/metrics-spec.js';
import { compileMetricPattern } from './metric-pattern.js';
import { parseNumber } from './numbers.js';

/** Metric values found on one line of trainer output, in the order printed. */
export type MetricLine = Map<string, number>;

export type LineParser = (line: string) => MetricLine | undefined;

// Tokens are split on whitespace, commas and semicolons, so `loss=0.1, acc=0.9` works too.
export const KEY_VALUE = /(?:^|[\s,;|])([A-Za-z_][\w./-]*)\s*=\s*([^\s,;|]+)/g;

/** `epoch=3 loss=0.29 val_loss=3.1e-01`; non-numeric values (`optimizer=adam`) are ignored. */
export const parseKeyValueLine: LineParser = (line) => {
  let found: MetricLine | undefined;
  for (const m of line.matchAll(KEY_VALUE)) {
    const value = parseNumber(m[2] as string);
    if (value === undefined) continue;
    (found ??= new Map()).set(m[1] as string, value);
  }
  return found;
};

/** One JSON object per line; numeric fields (and "NaN"/"inf" strings) are metrics. */
export const parseJsonLine: LineParser = (line) => {
  const t = line.trim();
  if (!t.startsWith('{')) return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  let found: MetricLine | undefined;
  for (const [key, raw] of Object.entries(obj)) {
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' ? parseNumber(raw) : undefined;
    if (value !== undefined) (found ??= new Map()).set(key, value);
  }
  return found;
};

/** The user's pattern with named groups `name` and `value`, and optionally `step`. */
export function regexLineParser(source: string): LineParser {
  // RE2 semantics (re2js): matching is linear in the line, whatever the user wrote, and matchAll
  // steps past empty matches on its own, so no line depends on the one before it.
  const pattern = compileMetricPattern(source);
  return (line) => {
    let found: MetricLine | undefined;
    for (const m of pattern.matchAll(line)) {
      const name = m.groups?.['name'];
      const value = m.groups?.['value'] !== undefined ? parseNumber(m.groups['value']) : undefined;
      if (!name || value === undefined) continue;
      found ??= new Map();
      const step = m.groups?.['step'] !== undefined ? parseNumber(m.groups['step']) : undefined;
      if (step !== undefined) found.set('step', step);
      found.set(name, value);
    }
    return found;
  };
}

export function lineParserFor(spec: Pick<MetricsSpec, 'format' | 'regex'>): LineParser {
  switch (spec.format) {
    case 'keyvalue':
      return parseKeyValueLine;
    case 'json':
      return parseJsonLine;
    case 'regex':
      if (spec.regex === undefined) throw new Error('metrics.format regex needs metrics.regex');
      return regexLineParser(spec.regex);
  }
}
