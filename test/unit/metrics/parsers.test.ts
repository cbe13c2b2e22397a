import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricCollector, thin } from '../../../src/metrics/collector.js';
import { RegExpParser } from '@eslint-community/regexpp';
import { analyse } from 'scslre';
import {
  KEY_VALUE,
  parseJsonLine,
  parseKeyValueLine,
  regexLineParser,
} from '../../../src/metrics/line-parsers.js';
import { NUMBER, parseNumber } from '../../../src/metrics/numbers.js';

const entries = (m: Map<string, number> | undefined) => (m ? Object.fromEntries(m) : undefined);

describe('numbers', () => {
  it('reads plain, scientific and non-finite spellings', () => {
    assert.equal(parseNumber('1e-05'), 1e-5);
    assert.equal(parseNumber('-2.5E+3'), -2500);
    assert.equal(parseNumber('.5'), 0.5);
    assert.equal(parseNumber('3.'), 3);
    assert.ok(Number.isNaN(parseNumber('nan')));
    assert.ok(Number.isNaN(parseNumber('NaN')));
    assert.equal(parseNumber('-inf'), -Infinity);
    assert.equal(parseNumber('Infinity'), Infinity);
    assert.equal(parseNumber('0x10'), undefined);
    assert.equal(parseNumber('1e'), undefined);
    assert.equal(parseNumber('adam'), undefined);
  });
});

describe('key=value lines', () => {
  it('parses the Katib text format with scientific notation', () => {
    assert.deepEqual(
      entries(parseKeyValueLine('epoch=3 loss=2.994e-01 val_loss=3.1E-1 val_accuracy=0.912')),
      {
        epoch: 3,
        loss: 0.2994,
        val_loss: 0.31,
        val_accuracy: 0.912,
      },
    );
  });

  it('accepts commas and spaces around =, and ignores non-numeric values', () => {
    assert.deepEqual(entries(parseKeyValueLine('step=10, loss = 0.5; optimizer=adam lr=1e-3')), {
      step: 10,
      loss: 0.5,
      lr: 0.001,
    });
  });

  it('returns nothing for lines without metrics', () => {
    assert.equal(parseKeyValueLine('Downloading dataset... 45%'), undefined);
    assert.equal(parseKeyValueLine(''), undefined);
    assert.equal(parseKeyValueLine('a==b'), undefined);
  });

  it('keeps NaN so the collector can see it', () => {
    assert.ok(Number.isNaN(parseKeyValueLine('epoch=2 loss=nan')!.get('loss')));
  });
});

describe('JSON lines', () => {
  it('reads numeric fields and NaN strings, and ignores broken JSON', () => {
    assert.deepEqual(
      entries(parseJsonLine('{"epoch": 2, "loss": 0.25, "note": "hi", "acc": "NaN"}'))!['loss'],
      0.25,
    );
    assert.ok(Number.isNaN(parseJsonLine('{"acc": "NaN"}')!.get('acc')));
    assert.equal(parseJsonLine('{"loss": 0.2'), undefined);
    assert.equal(parseJsonLine('[1,2]'), undefined);
    assert.equal(parseJsonLine('loss=0.2'), undefined);
  });
});

describe('regex format', () => {
  it('uses the named groups name, value and step', () => {
    const parse = regexLineParser('Epoch (?<step>\\d+).*?(?<name>val_loss|loss): (?<value>[-+.\\deE]+)');
    assert.deepEqual(entries(parse('Epoch 4/10 - loss: 1.5e-2')), { step: 4, loss: 0.015 });
    assert.equal(parse('nothing here'), undefined);
  });

  it('parses every line alike when the pattern can match the empty string', () => {
    const lines = ['loss=0.5', 'acc=0.9', 'loss=0.25 acc=0.75', 'no metrics', 'loss=0.1'];
    const expected = [{ loss: 0.5 }, { acc: 0.9 }, { loss: 0.25, acc: 0.75 }, undefined, { loss: 0.1 }];
    // Both can match zero characters (the first at every position, the second at every word
    // boundary), so each match must advance on its own.
    for (const source of ['(?<name>\\w*)=?(?<value>[\\d.]*)', '\\b(?<name>[a-z]*)(?:=(?<value>[\\d.]+))?']) {
      const parse = regexLineParser(source);
      assert.deepEqual(
        lines.map((l) => entries(parse(l))),
        expected,
        source,
      );
      // The same parser gives the same answer on a second pass: nothing carries over between lines.
      assert.deepEqual(
        lines.map((l) => entries(parse(l))),
        expected,
        `${source}, second pass`,
      );
    }
  });

  it('ignores a match whose name group is empty', () => {
    assert.equal(regexLineParser('(?<name>[a-z]*)=(?<value>[\\d.]+)')('=5'), undefined);
  });
});

describe('metric collector', () => {
  const spec = (over: Record<string, unknown> = {}) => ({
    objective: { metric: 'loss', additionalMetrics: ['acc'] },
    metrics: {
      format: 'keyvalue' as const,
      stepKeys: ['step', 'epoch'],
      strategy: 'last' as const,
      maxIntermediateValues: 200,
      maxLineLength: 1024,
      ...over,
    },
  });

  it('records intermediate values per epoch and the last value as final, amid garbage lines', () => {
    const c = new MetricCollector(spec());
    for (const line of [
      'starting',
      'epoch=1 loss=0.9 acc=0.5',
      '\u0000\u0001 binary junk',
      'epoch=2 loss=0.4 acc=0.8',
      'epoch=3 loss=0.6 acc=0.7',
    ])
      c.feedLine(line);
    assert.deepEqual(c.intermediate(), [
      { step: 1, value: 0.9 },
      { step: 2, value: 0.4 },
      { step: 3, value: 0.6 },
    ]);
    assert.deepEqual(c.final(), { ok: true, objective: 0.6, metrics: { loss: 0.6, acc: 0.7 } });
    assert.equal(c.ignoredLines, 2);
  });

  it('applies min/max strategies per metric', () => {
    const c = new MetricCollector(spec({ strategy: 'min', strategies: { acc: 'max' } }));
    for (const line of ['loss=0.9 acc=0.5', 'loss=0.4 acc=0.8', 'loss=0.6 acc=0.7']) c.feedLine(line);
    assert.deepEqual(c.final(), { ok: true, objective: 0.4, metrics: { loss: 0.4, acc: 0.8 } });
    assert.deepEqual(
      c.intermediate().map((p) => p.step),
      [1, 2, 3],
    );
  });

  it('fails a trial whose objective ends as NaN, and one that never reports it', () => {
    const nan = new MetricCollector(spec());
    nan.feedLine('epoch=1 loss=0.5');
    nan.feedLine('epoch=2 loss=nan');
    assert.deepEqual(nan.final(), { ok: false, reason: 'ObjectiveNotFinite', message: 'loss ended as NaN' });
    assert.deepEqual(nan.intermediate(), [{ step: 1, value: 0.5 }]);
    const none = new MetricCollector(spec());
    none.feedLine('epoch=1 acc=0.5');
    const r = none.final();
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'MetricsUnavailable');
  });

  it('bounds the intermediate values and keeps the latest ones', () => {
    const c = new MetricCollector(spec({ maxIntermediateValues: 10 }));
    for (let i = 1; i <= 1000; i++) c.feedLine(`step=${i} loss=${1 / i}`);
    const pts = c.intermediate();
    assert.ok(pts.length <= 10);
    assert.equal(pts[pts.length - 1]!.step, 1000);
    assert.ok(pts.every((p, i) => i === 0 || p.step > pts[i - 1]!.step));
    assert.equal(thin([{ step: 1, value: 1 }], 8).length, 1);
  });

  it('skips and counts lines over maxLineLength, and says so when the objective is missing', () => {
    const skipped: string[] = [];
    const c = new MetricCollector(spec(), { onSkippedLine: (reason) => skipped.push(reason) });
    const padded = (n: number) => `epoch=1 loss=0.5 ${'x'.repeat(n - 'epoch=1 loss=0.5 '.length)}`;
    assert.equal(c.feedLine(padded(1025)), undefined);
    assert.equal(c.feedLine(`loss=0.25 ${'1'.repeat(1_048_576)}`), undefined);
    assert.equal(c.skippedLines, 2);
    assert.deepEqual(skipped, ['too_long', 'too_long']);
    assert.deepEqual(c.final(), {
      ok: false,
      reason: 'MetricsUnavailable',
      message:
        'the trial never reported loss (2 lines longer than metrics.maxLineLength (1024) were skipped)',
    });
    // A line at the limit is parsed as usual.
    assert.deepEqual(c.feedLine(padded(1024)), { step: 1, value: 0.5 });
    assert.equal(c.skippedLines, 2);
  });
});

describe('built-in patterns', () => {
  // Trainer output is untrusted: a pattern that backtracks super-linearly turns one long line
  // into seconds of the operator's time (`loss=111…1x`, 64 KiB, took 2.8 s before the number
  // pattern was made unambiguous). scslre finds such patterns by analysis, not by timing.
  for (const [name, pattern] of Object.entries({ NUMBER, KEY_VALUE })) {
    it(`${name} cannot backtrack super-linearly`, () => {
      const ast = new RegExpParser().parseLiteral(String(pattern));
      assert.deepEqual(
        analyse(ast).reports.map((r) => r.type),
        [],
      );
    });
  }

  it('still reads every number spelling after the rewrite', () => {
    for (const [text, value] of [
      ['3.', 3],
      ['.5', 0.5],
      ['1.5e-3', 0.0015],
      ['-2', -2],
      ['+7.25E+2', 725],
    ] as const)
      assert.equal(parseNumber(text), value);
    for (const text of ['.', '1..2', '1e', 'e5', '1.2.3', `${'1'.repeat(65_536)}x`])
      assert.equal(parseNumber(text), undefined);
  });
});
