import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegExpParser } from '@eslint-community/regexpp';
import { analyse } from 'scslre';
import { FLOAT, parsePrometheusText, PromParseError } from '../../../src/operator/runtime/prometheus-text.js';

describe('parsePrometheusText', () => {
  it('skips comments and keeps histogram lines as plain samples', () => {
    const text = [
      '# HELP http_requests_total The total number of HTTP requests.',
      '# TYPE http_requests_total counter',
      'http_requests_total{method="post",code="200"} 1027 1395066363000',
      'http_requests_total{method="post",code="400"}    3 1395066363000',
      '',
      '# A histogram',
      'lat_bucket{le="0.05"} 24054',
      'lat_bucket{le="+Inf"} 144320',
      'lat_sum 53423',
      'lat_count 144320',
      'up 1',
      '# EOF',
    ].join('\n');
    const samples = parsePrometheusText(text);
    assert.equal(samples.length, 7);
    assert.deepEqual(samples[0], {
      name: 'http_requests_total',
      labels: { method: 'post', code: '200' },
      value: 1027,
      timestamp: 1395066363000,
    });
    assert.deepEqual(samples[3], { name: 'lat_bucket', labels: { le: '+Inf' }, value: 144320 });
    assert.deepEqual(samples[6], { name: 'up', labels: {}, value: 1 });
  });

  it('unescapes label values', () => {
    const [s] = parsePrometheusText(
      String.raw`msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\"",odd="a\tb"} 1.458255915e9`,
    );
    assert.deepEqual(s?.labels, {
      path: 'C:\\DIR\\FILE.TXT',
      error: 'Cannot find file:\n"FILE.TXT"',
      odd: 'a\\tb',
    });
    assert.equal(s?.value, 1.458255915e9);
  });

  it('accepts braces, commas and quotes inside values, trailing commas, spaces and CRLF', () => {
    const samples = parsePrometheusText('a{x="}{,=\\"", y = "2" ,} 3\r\nb { } -4.5e-3\r\n');
    assert.deepEqual(samples, [
      { name: 'a', labels: { x: '}{,="', y: '2' }, value: 3 },
      { name: 'b', labels: {}, value: -0.0045 },
    ]);
  });

  it('reads NaN, +Inf, -Inf and negative timestamps', () => {
    const samples = parsePrometheusText('a NaN\nb +Inf\nc -Inf\nd Inf -5\ne .5');
    assert.ok(Number.isNaN(samples[0]?.value));
    assert.deepEqual(
      samples.slice(1).map((s) => [s.value, s.timestamp]),
      [
        [Infinity, undefined],
        [-Infinity, undefined],
        [Infinity, -5],
        [0.5, undefined],
      ],
    );
  });

  it('reads quoted metric names (Prometheus 3)', () => {
    assert.deepEqual(parsePrometheusText('{"my.metric", le="1"} 2'), [
      { name: 'my.metric', labels: { le: '1' }, value: 2 },
    ]);
  });

  it('rejects malformed lines with the line number', () => {
    for (const bad of [
      'a{x="1} 2',
      'a{x=1} 2',
      'a{x="1" y="2"} 3',
      'a 0x10',
      'a',
      'a 1 2 3',
      'a 1 1.5',
      '9a 1',
      'a{x="1",x="2"} 1',
      'a{1="x"} 1',
    ]) {
      assert.throws(
        () => parsePrometheusText(`ok 1\n${bad}`),
        (err: unknown) => {
          assert.ok(err instanceof PromParseError, bad);
          assert.equal(err.line, 2, bad);
          return true;
        },
      );
    }
  });
});

describe('parsing untrusted expositions', () => {
  it('reads values with a pattern that cannot backtrack super-linearly', () => {
    assert.deepEqual(
      analyse(new RegExpParser().parseLiteral(String(FLOAT))).reports.map((r) => r.type),
      [],
    );
    assert.throws(() => parsePrometheusText(`x ${'1'.repeat(100_000)}x`), /bad value/);
  });

  it('reads a line with many labels', () => {
    const labels = Array.from({ length: 20_000 }, (_, i) => `l${i}="${i}"`).join(',');
    const [s] = parsePrometheusText(`many{${labels}} 2`);
    assert.equal(Object.keys(s!.labels).length, 20_000);
    assert.equal(s!.labels['l19999'], '19999');
  });
});
