// A parser for the Prometheus text exposition format (0.0.4), used to read trainers' /metrics
// and our own in tests. Histogram and summary series stay plain samples (`x_bucket{le=..}`,
// `x_sum`, `x_count`); callers that care about TYPE can read the comments themselves.

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch, when the exposition gives one. */
  timestamp?: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
// Sticky, so a label name is read in place rather than from a copy of the rest of the line.
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
// Unambiguous (see metrics/numbers.ts), so a long bad value is rejected in linear time.
export const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export function parsePromNumber(text: string): number | undefined {
  if (FLOAT.test(text)) return Number(text);
  switch (text.toLowerCase()) {
    case 'nan':
      return NaN;
    case '+inf':
    case 'inf':
      return Infinity;
    case '-inf':
      return -Infinity;
    default:
      return undefined;
  }
}

export class PromParseError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'PromParseError';
  }
}

/** Parses an exposition; throws PromParseError on a malformed line, as a Prometheus scrape would fail. */
export function parsePrometheusText(text: string): PromSample[] {
  const out: PromSample[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    out.push(parseSampleLine(trimmed, i + 1));
  }
  return out;
}

function parseSampleLine(line: string, lineNo: number): PromSample {
  let pos = 0;
  const fail = (what: string): never => {
    throw new PromParseError(`${what} at column ${pos + 1}: ${line}`, lineNo);
  };
  const skipSpace = () => {
    while (line[pos] === ' ' || line[pos] === '\t') pos++;
  };
  const readQuoted = (): string => {
    if (line[pos] !== '"') fail('expected "');
    pos++;
    let value = '';
    for (;;) {
      const c = line[pos++];
      if (c === undefined) return fail('unterminated string');
      if (c === '"') return value;
      if (c !== '\\') {
        value += c;
        continue;
      }
      const e = line[pos++];
      // Only \\, \" and \n are escapes; anything else is kept verbatim, as Prometheus does.
      if (e === 'n') value += '\n';
      else if (e === '\\' || e === '"') value += e;
      else if (e === undefined) fail('unterminated string');
      else value += `\\${e}`;
    }
  };

  let name = '';
  const m = NAME.exec(line);
  if (m) {
    name = m[0];
    pos = name.length;
  } else if (line[0] !== '{') {
    fail('expected a metric name');
  }
  const labels: Record<string, string> = {};
  skipSpace();
  if (line[pos] === '{') {
    pos++;
    for (;;) {
      skipSpace();
      if (line[pos] === '}') {
        pos++;
        break;
      }
      let labelName: string;
      if (line[pos] === '"') {
        // Prometheus 3 / OpenMetrics 2 allow quoted names; a quoted string alone is the metric name.
        const quoted = readQuoted();
        skipSpace();
        if (line[pos] !== '=') {
          if (name) fail('metric name given twice');
          name = quoted;
          skipSpace();
          if (line[pos] === ',') pos++;
          continue;
        }
        labelName = quoted;
      } else {
        LABEL_NAME.lastIndex = pos;
        const lm = LABEL_NAME.exec(line);
        if (!lm) return fail('expected a label name');
        labelName = lm[0];
        pos += labelName.length;
      }
      skipSpace();
      if (line[pos] !== '=') fail('expected =');
      pos++;
      skipSpace();
      if (labelName in labels) fail(`duplicate label ${labelName}`);
      labels[labelName] = readQuoted();
      skipSpace();
      if (line[pos] === ',') pos++;
      else if (line[pos] !== '}') fail('expected , or }');
    }
  }
  if (!name) fail('missing metric name');
  const rest = line
    .slice(pos)
    .trim()
    .split(/[ \t]+/);
  if (rest.length < 1 || rest.length > 2 || rest[0] === '')
    fail('expected a value and an optional timestamp');
  const value = parsePromNumber(rest[0] ?? '');
  if (value === undefined) fail(`bad value ${JSON.stringify(rest[0])}`);
  const sample: PromSample = { name, labels, value: value as number };
  if (rest[1] !== undefined) {
    if (!/^-?\d+$/.test(rest[1])) fail(`bad timestamp ${JSON.stringify(rest[1])}`);
    sample.timestamp = Number(rest[1]);
  }
  return sample;
}
