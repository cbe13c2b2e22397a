import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  apiserverKey,
  classifyRequest,
  counterDelta,
  counterTotals,
  firstGauge,
  isList,
  isWrite,
  median,
  perTrial,
  quantile,
  refillLatencies,
  refillPairs,
  sumWhere,
} from '../../../bench/scale/stats.js';

const scrape = (
  trialPatches: number,
  podLogs: number,
) => `# HELP apiserver_request_total Counter of apiserver requests
# TYPE apiserver_request_total counter
apiserver_request_total{code="200",component="apiserver",dry_run="",group="kubetune.io",resource="trials",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} ${trialPatches - 1}
apiserver_request_total{code="409",component="apiserver",dry_run="",group="kubetune.io",resource="trials",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 1
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="log",verb="CONNECT",version="v1"} ${podLogs}
apiserver_request_total{code="200",component="apiserver",dry_run="",group="batch",resource="jobs",scope="namespace",subresource="",verb="LIST",version="v1"} 7
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="",scope="",subresource="",verb="GET",version=""} 3
apiserver_request_duration_seconds_count{resource="jobs",subresource="",verb="LIST"} 99
`;

describe('bench:scale counters', () => {
  it('sums apiserver_request_total over codes and ignores other metrics', () => {
    const c = counterTotals(scrape(10, 4), 'apiserver_request_total', ['verb', 'resource', 'subresource']);
    assert.equal(c.get('PATCH trials status'), 10);
    assert.equal(c.get('CONNECT pods log'), 4);
    assert.equal(c.get('LIST jobs '), 7);
    assert.equal(c.size, 4);
  });

  it('reports only the keys that moved between two scrapes', () => {
    const keys = ['verb', 'resource', 'subresource'];
    const before = counterTotals(scrape(10, 4), 'apiserver_request_total', keys);
    const after = counterTotals(scrape(25, 6), 'apiserver_request_total', keys);
    assert.deepEqual(
      [...counterDelta(before, after)],
      [
        ['PATCH trials status', 15],
        ['CONNECT pods log', 2],
      ],
    );
  });

  it('counts writes without log streams, and LISTs apart', () => {
    const c = new Map([
      ['PATCH trials/status', 6],
      ['POST jobs', 1],
      ['DELETE jobs', 1],
      ['PUT leases', 2],
      ['CONNECT pods/log', 5],
      ['POST pods/log', 9],
      ['GET studies', 4],
      ['LIST pods', 3],
      ['WATCH pods', 1],
    ]);
    assert.equal(sumWhere(c, isWrite), 10);
    assert.equal(sumWhere(c, isList), 3);
  });

  it('reads etcd db size under either metric name', () => {
    assert.equal(
      firstGauge('etcd_debugging_mvcc_db_total_size_in_bytes 4096\n', [
        'etcd_mvcc_db_total_size_in_bytes',
        'etcd_debugging_mvcc_db_total_size_in_bytes',
      ]),
      4096,
    );
    assert.equal(
      firstGauge('etcd_mvcc_db_total_size_in_bytes 8192\netcd_debugging_mvcc_db_total_size_in_bytes 1\n', [
        'etcd_mvcc_db_total_size_in_bytes',
        'etcd_debugging_mvcc_db_total_size_in_bytes',
      ]),
      8192,
    );
    assert.equal(firstGauge('other 1\n', ['etcd_mvcc_db_total_size_in_bytes']), undefined);
  });
});

describe('bench:scale request classification', () => {
  it('names client requests as the apiserver does', () => {
    assert.equal(
      classifyRequest('GET', '/apis/kubetune.io/v1alpha1/namespaces/ns/trials?labelSelector=a%3Db'),
      'LIST trials',
    );
    assert.equal(
      classifyRequest('GET', '/apis/kubetune.io/v1alpha1/namespaces/ns/trials?watch=true&resourceVersion=5'),
      'WATCH trials',
    );
    assert.equal(classifyRequest('GET', '/apis/kubetune.io/v1alpha1/trials?watch=1'), 'WATCH trials');
    assert.equal(
      classifyRequest('GET', '/apis/kubetune.io/v1alpha1/namespaces/ns/studies/s-001'),
      'GET studies',
    );
    assert.equal(
      classifyRequest('patch', '/apis/kubetune.io/v1alpha1/namespaces/ns/trials/s-1/status'),
      'PATCH trials/status',
    );
    assert.equal(classifyRequest('POST', '/apis/batch/v1/namespaces/ns/jobs'), 'POST jobs');
    assert.equal(classifyRequest('GET', '/api/v1/namespaces/ns/pods/p/log?follow=true'), 'CONNECT pods/log');
    assert.equal(classifyRequest('GET', '/api/v1/pods'), 'LIST pods');
    assert.equal(
      classifyRequest('PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l'),
      'PUT leases',
    );
  });

  it('builds the same key from apiserver labels', () => {
    assert.equal(
      apiserverKey({ verb: 'PATCH', resource: 'trials', subresource: 'status' }),
      'PATCH trials/status',
    );
    assert.equal(apiserverKey({ verb: 'LIST', resource: 'jobs', subresource: '' }), 'LIST jobs');
  });
});

describe('bench:scale arithmetic', () => {
  it('takes nearest-rank quantiles', () => {
    const xs = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    assert.equal(median(xs), 6);
    assert.equal(quantile(xs, 0.95), 10);
    assert.equal(quantile(xs, 0), 1);
    assert.ok(Number.isNaN(median([])));
  });

  it('divides by completed trials, and a run without any is NaN rather than free', () => {
    assert.equal(perTrial(150, 1000), 0.15);
    assert.ok(Number.isNaN(perTrial(10, 0)));
  });

  it('pairs each finished trial with the next refill Job, skipping the first wave', () => {
    // parallelism 2: Jobs at 0 and 1 fill the slots; finishes at 100 and 150 are refilled at
    // 130 and 400; the finish at 500 is the study's last, with no Job after it.
    assert.deepEqual(refillLatencies([150, 100, 500], [0, 1, 400, 130], 2), [30, 250]);
  });

  it('never pairs a refill with a Job created before the trial finished', () => {
    assert.deepEqual(refillLatencies([100], [0, 1, 50], 2), []);
  });

  it('names which trial each refill Job follows, so the steps between can be timed', () => {
    const finishes = [
      { trial: 'b', at: 150 },
      { trial: 'a', at: 100 },
    ];
    const jobs = [0, 1, 400, 130].map((at, i) => ({ trial: `j${i}`, at }));
    assert.deepEqual(
      refillPairs(finishes, jobs, 2).map((p) => [p.finish.trial, p.job.trial]),
      [
        ['a', 'j3'],
        ['b', 'j2'],
      ],
    );
  });
});
