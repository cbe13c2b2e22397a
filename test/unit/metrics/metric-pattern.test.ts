import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatZodError } from '../../../src/api/errors.js';
import { StudySpec } from '../../../src/api/study.js';
import { MetricCollector } from '../../../src/metrics/collector.js';
import { regexLineParser } from '../../../src/metrics/line-parsers.js';
import { metricPatternProblem, MAX_PATTERN_PROGRAM } from '../../../src/metrics/metric-pattern.js';
import { specInput } from '../../support/specs.js';

const entries = (m: Map<string, number> | undefined) => (m ? Object.fromEntries(m) : undefined);

function regexErrors(regex: string): string[] {
  const r = StudySpec.safeParse(specInput({ metrics: { format: 'regex', regex } as never }));
  return r.success ? [] : formatZodError(r.error, ['spec']).map((e) => `${e.path}: ${e.message}`);
}

describe('metric patterns', () => {
  // Each of these takes V8's backtracking engine seconds to years on one line; the parser must
  // still give the right answer, and does so because it never backtracks.
  const hostile = [
    { regex: String.raw`(?<name>\w+)=(?<value>\S+)`, line: `${'a'.repeat(65_000)} loss=0.5` },
    { regex: String.raw`(?<name>(a+)+)=(?<value>\d+)`, line: `${'a'.repeat(65_000)}!` },
    { regex: String.raw`(?<name>(a|aa)*b)=(?<value>\d+)`, line: 'a'.repeat(65_000) },
    { regex: String.raw`(?<name>loss)=(?<value>\d+\.?\d*)$`, line: `loss=${'1'.repeat(65_000)}x` },
  ];
  for (const { regex, line } of hostile) {
    it(`accepts ${regex} and parses an adversarial line correctly`, () => {
      assert.deepEqual(regexErrors(regex), []);
      const expected = regex.startsWith(String.raw`(?<name>\w+)`) ? { loss: 0.5 } : undefined;
      assert.deepEqual(entries(regexLineParser(regex)(line)), expected);
    });
  }

  it('parses every match of a line, empty matches included, and keeps named steps', () => {
    const parse = regexLineParser(String.raw`(?<name>[a-z]*)=?(?<value>\d*)`);
    assert.deepEqual(entries(parse('a=1 b=2')), { a: 1, b: 2 });
    const stepped = regexLineParser(String.raw`\[(?<step>\d+)\] (?<name>\w+): (?<value>\S+)`);
    assert.deepEqual(entries(stepped('[3] loss: 0.25')), { step: 3, loss: 0.25 });
    // The same parser on the next line starts from the line's beginning.
    assert.deepEqual(entries(stepped('[4] loss: 0.2')), { step: 4, loss: 0.2 });
  });

  it('rejects what RE2 cannot run, naming the field and what is allowed', () => {
    assert.deepEqual(regexErrors(String.raw`(?<name>\w+)=(?<value>\d+)(?=\s)`), [
      'spec.metrics.regex: is not a pattern RE2 accepts (metric patterns run on RE2, which has no lookaround or backreferences): error parsing regexp: invalid or unsupported Perl syntax: `(?=`',
    ]);
    assert.match(
      regexErrors(String.raw`(?<name>(\w))=(?<value>\2)`)[0]!,
      /^spec\.metrics\.regex: is not a pattern RE2 accepts/,
    );
  });

  it('rejects patterns whose program would make every line expensive, before compiling them', () => {
    assert.deepEqual(regexErrors(String.raw`(?<name>\w{1,60})=(?<value>\d{1,60})`), [
      'spec.metrics.regex: has counted repetitions whose bounds add up to 120; at most 100 allowed (use * or + instead)',
    ]);
    assert.deepEqual(regexErrors(String.raw`(?<name>(ab|cd){2,3})=(?<value>\d+)`), [
      'spec.metrics.regex: repeats a group with a count, (...){n,m}; repeat a character or class with a count, or a group with * or +',
    ]);
    const wide = String.raw`(?<name>\w+)=(?<value>\S+)` + String.raw`\s*\w*`.repeat(40);
    assert.match(
      regexErrors(wide)[0]!,
      new RegExp(
        `^spec\\.metrics\\.regex: compiles to \\d+ instructions; at most ${MAX_PATTERN_PROGRAM} allowed`,
      ),
    );
  });

  it('does not mistake braces in classes and escapes for counted repetitions', () => {
    assert.equal(metricPatternProblem(String.raw`(?<name>[{}a-z]+)=(?<value>\d+)`), undefined);
    assert.equal(metricPatternProblem(String.raw`\{(?<name>\p{L}+)\}=(?<value>\d{1,3})`), undefined);
    assert.equal(metricPatternProblem(String.raw`(?<name>\w+)\x{3D}(?<value>\d+)`), undefined);
  });

  it('feeds the collector through the bounded pattern', () => {
    const c = new MetricCollector({
      objective: { metric: 'loss', additionalMetrics: [] },
      metrics: {
        format: 'regex',
        regex: String.raw`(?<name>\w+)=(?<value>\S+)`,
        stepKeys: ['step'],
        strategy: 'last',
        maxIntermediateValues: 100,
        maxLineLength: 65_536,
      },
    });
    c.feedLine('step=1 loss=0.5');
    c.feedLine('step=2 loss=0.25');
    assert.deepEqual(c.final(), { ok: true, objective: 0.25, metrics: { loss: 0.25 } });
  });
});
