import { RE2JS } from 're2js';

/**
 * A Study's `metrics.regex` runs on every line its trials print, on the operator's thread. A
 * backtracking engine (V8's) can take seconds or years on one line for patterns as plain as
 * `(?<name>\w+)=(?<value>\S+)` (quadratic) or `(a+)+` (exponential), so patterns run on re2js,
 * a port of RE2: time linear in the line for a given program. What is left to bound is the
 * program: matching costs about line length × program size, and compiling costs its size.
 */

/** Largest compiled program: ~0.25 s for a 64 KiB line in the worst case on a busy core. */
export const MAX_PATTERN_PROGRAM = 128;
/** Counted repetitions expand into copies before compiling; their bounds may add up to this. */
const MAX_COUNTED_REPETITION = 100;

export interface MetricPattern {
  matchAll(line: string): Iterable<RegExpMatchArray>;
}

const COUNT = /\{(\d+)(?:,(\d*))?\}/y;

/**
 * Counted repetitions `{n}`, `{n,}`, `{n,m}` outside character classes: their largest bound, and
 * whether they repeat a group. A group repeated by a count multiplies the group's program, so
 * these are checked before the pattern is compiled, since compiling is what they make slow.
 */
function countedRepetitions(source: string): { max: number; ofGroup: boolean }[] {
  const found: { max: number; ofGroup: boolean }[] = [];
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      // \p{L}, \P{L} and \x{41} carry braces that are not repetitions.
      if ('pPx'.includes(source[i + 1] ?? '') && source[i + 2] === '{') {
        const end = source.indexOf('}', i + 3);
        i = end < 0 ? source.length : end;
      } else i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
      if (source[i + 1] === '^') i++;
      if (source[i + 1] === ']') i++; // a leading ] is a literal
    } else if (c === '{') {
      COUNT.lastIndex = i;
      const m = COUNT.exec(source);
      if (!m) continue;
      const low = Number(m[1]);
      found.push({ max: Math.max(low, m[2] ? Number(m[2]) : low), ofGroup: source[i - 1] === ')' });
      i += m[0].length - 1;
    }
  }
  return found;
}

function compile(source: string): RE2JS | string {
  const counts = countedRepetitions(source);
  if (counts.some((r) => r.ofGroup))
    return 'repeats a group with a count, (...){n,m}; repeat a character or class with a count, or a group with * or +';
  const total = counts.reduce((sum, r) => sum + r.max, 0);
  if (total > MAX_COUNTED_REPETITION)
    return `has counted repetitions whose bounds add up to ${total}; at most ${MAX_COUNTED_REPETITION} allowed (use * or + instead)`;
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (err) {
    return `is not a pattern RE2 accepts (metric patterns run on RE2, which has no lookaround or backreferences): ${(err as Error).message}`;
  }
  if (re.programSize() > MAX_PATTERN_PROGRAM)
    return `compiles to ${re.programSize()} instructions; at most ${MAX_PATTERN_PROGRAM} allowed, as every line costs its length times this`;
  return re;
}

/** Why `source` cannot be a metrics.regex, or undefined when it can. */
export function metricPatternProblem(source: string): string | undefined {
  const compiled = compile(source);
  return typeof compiled === 'string' ? compiled : undefined;
}

/** The compiled pattern; throws the validation message for a pattern validation would reject. */
export function compileMetricPattern(source: string): MetricPattern {
  const compiled = compile(source);
  if (typeof compiled === 'string') throw new Error(`metrics.regex ${compiled}`);
  return compiled;
}
