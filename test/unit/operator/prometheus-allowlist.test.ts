import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatZodError } from '../../../src/api/errors.js';
import { StudySpec } from '../../../src/api/study.js';
import { PrometheusAllowlist } from '../../../src/operator/runtime/prometheus-allowlist.js';
import { spec, specInput } from '../../support/specs.js';

const queryStudy = (url: string) =>
  spec({
    metrics: { source: 'prometheus', prometheus: { mode: 'query', url } } as never,
  });

describe('Prometheus allowlist', () => {
  const allowlist = PrometheusAllowlist.parse([
    'http://prometheus.monitoring:9090',
    'https://thanos.example/api/',
  ]);

  it('admits URLs under an entry, by origin and whole path segments', () => {
    for (const url of [
      'http://prometheus.monitoring:9090',
      'http://prometheus.monitoring:9090/',
      'http://prometheus.monitoring:9090/sub/path',
      'https://thanos.example/api',
      'https://thanos.example/api/v1',
      'HTTPS://THANOS.EXAMPLE:443/api',
    ])
      assert.equal(allowlist.check(queryStudy(url)), undefined, url);
  });

  it('refuses everything else, naming the field and the allowlist', () => {
    const allowed = '(http://prometheus.monitoring:9090/, https://thanos.example/api/)';
    for (const url of [
      'http://prometheus.monitoring:9091',
      'https://prometheus.monitoring:9090',
      'http://prometheus.monitoring.evil.example:9090',
      'http://evil.example/http://prometheus.monitoring:9090',
      'https://thanos.example/apix',
      'https://thanos.example/',
      'http://169.254.169.254/latest/meta-data',
    ])
      assert.equal(
        allowlist.check(queryStudy(url)),
        `spec.metrics.prometheus.url: ${JSON.stringify(url)} is not in the operator's Prometheus allowlist ${allowed}`,
        url,
      );
    assert.equal(
      allowlist.check(queryStudy('http://prometheus.monitoring:9090@evil.example/')),
      'spec.metrics.prometheus.url: "http://prometheus.monitoring:9090@evil.example/" must not carry credentials',
    );
    assert.equal(
      allowlist.check(queryStudy('file:///etc/passwd')),
      'spec.metrics.prometheus.url: "file:///etc/passwd" must be an http or https URL',
    );
  });

  it('turns query mode off when empty, and leaves scrape mode and log studies alone', () => {
    assert.equal(
      PrometheusAllowlist.parse([]).check(queryStudy('http://prometheus.monitoring:9090')),
      'spec.metrics.prometheus.url: query mode is disabled: this operator has an empty Prometheus allowlist (--prometheus-url-allowlist, Helm value prometheus.urlAllowlist)',
    );
    const scrape = spec({
      metrics: { source: 'prometheus', prometheus: { mode: 'scrape', port: 9100 } } as never,
    });
    assert.equal(PrometheusAllowlist.parse([]).check(scrape), undefined);
    assert.equal(PrometheusAllowlist.parse([]).check(spec()), undefined);
  });

  it('rejects a bad operator entry with the entry', () => {
    assert.throws(
      () => PrometheusAllowlist.parse(['prometheus:9090']),
      /"prometheus:9090" must be an http or https URL/,
    );
    assert.throws(() => PrometheusAllowlist.parse(['http://u:p@prom']), /must not carry credentials/);
  });
});

describe('scrape mode reads the trial pod only', () => {
  it('rejects a path that could name another host', () => {
    for (const path of ['@169.254.169.254/latest', '.evil.example/metrics', 'metrics']) {
      const r = StudySpec.safeParse(
        specInput({
          metrics: { source: 'prometheus', prometheus: { mode: 'scrape', port: 9100, path } } as never,
        }),
      );
      assert.equal(r.success, false, path);
      assert.deepEqual(
        formatZodError(r.error!, ['spec']).map((e) => `${e.path}: ${e.message}`),
        [
          'spec.metrics.prometheus.path: path must start with / (it follows http://<pod IP>:<port>, so nothing else may name the host)',
        ],
      );
    }
  });

  it('keeps the interval at or above its floor', () => {
    const r = StudySpec.safeParse(
      specInput({
        metrics: {
          source: 'prometheus',
          prometheus: { mode: 'scrape', port: 9100, intervalSeconds: 0.01 },
        } as never,
      }),
      { reportInput: true },
    );
    assert.deepEqual(
      formatZodError(r.error!, ['spec']).map((e) => `${e.path}: ${e.message}`),
      ['spec.metrics.prometheus.intervalSeconds: must be >= 0.5, got 0.01'],
    );
  });
});
