import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry, register } from 'prom-client';
import {
  createOperatorMetrics,
  observeReconcile,
  workQueueMetricsHooks,
} from '../../../src/operator/runtime/operator-metrics.js';
import { WorkQueue } from '../../../src/operator/runtime/work-queue.js';
import { parsePrometheusText } from '../../../src/operator/runtime/prometheus-text.js';
import { FairShareLedger } from '../../../src/operator/study/slot-ledger.js';

describe('operator metrics', () => {
  it('registers controller-runtime, workqueue, kubetune and process metrics', async () => {
    const m = createOperatorMetrics();
    m.trials.set({ namespace: 'ns', study: 's', state: 'Running' }, 3);
    m.suggestionLatency.observe({ algorithm: 'tpe' }, 0.004);
    m.slotRefillLatency.observe(0.2);
    m.logStreamReconnects.inc();
    m.informerRestarts.inc({ informer: 'studies' });
    m.leader.set(1);
    observeReconcile(m, 'study', 'error', 0.01);
    observeReconcile(m, 'study', 'success', 0.02);
    const text = await m.registry.metrics();
    for (const name of [
      'controller_runtime_reconcile_total',
      'controller_runtime_reconcile_errors_total',
      'controller_runtime_reconcile_time_seconds',
      'workqueue_depth',
      'workqueue_adds_total',
      'workqueue_queue_duration_seconds',
      'workqueue_work_duration_seconds',
      'workqueue_retries_total',
      'kubetune_trials',
      'kubetune_suggestion_latency_seconds',
      'kubetune_slot_refill_latency_seconds',
      'kubetune_log_stream_reconnects_total',
      'kubetune_informer_restarts_total',
      'kubetune_leader',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
    const samples = parsePrometheusText(text);
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        ?.value;
    assert.equal(value('controller_runtime_reconcile_total', { controller: 'study', result: 'error' }), 1);
    assert.equal(value('controller_runtime_reconcile_errors_total', { controller: 'study' }), 1);
    assert.equal(value('controller_runtime_reconcile_time_seconds_count', { controller: 'study' }), 2);
    assert.equal(value('kubetune_trials', { study: 's', state: 'Running' }), 3);
    assert.equal(value('kubetune_suggestion_latency_seconds_bucket', { algorithm: 'tpe', le: '0.001' }), 0);
    assert.equal(value('kubetune_suggestion_latency_seconds_bucket', { algorithm: 'tpe', le: '0.005' }), 1);
    assert.equal(value('kubetune_slot_refill_latency_seconds_bucket', { le: '30' }), 1);
    assert.equal(value('kubetune_leader'), 1);
  });

  it('keeps separate registries apart: two operators in one process neither collide nor share values', async () => {
    const a = createOperatorMetrics(new Registry());
    const b = createOperatorMetrics(new Registry());
    a.trials.set({ namespace: 'ns', study: 's', state: 'Running' }, 3);
    observeReconcile(a, 'study', 'error', 0.01);
    a.leader.set(1);
    const sample = async (m: typeof a, name: string, labels: Record<string, string> = {}) =>
      parsePrometheusText(await m.registry.metrics()).find(
        (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
      )?.value;
    assert.equal(await sample(a, 'kubetune_trials', { study: 's' }), 3);
    assert.equal(await sample(b, 'kubetune_trials', { study: 's' }), undefined);
    assert.equal(await sample(a, 'controller_runtime_reconcile_errors_total', { controller: 'study' }), 1);
    assert.equal(
      await sample(b, 'controller_runtime_reconcile_errors_total', { controller: 'study' }),
      undefined,
    );
    assert.equal(await sample(b, 'kubetune_leader'), 0);
    // Neither set went to prom-client's global registry, where a second operator would collide.
    assert.doesNotMatch(await register.metrics(), /kubetune_|controller_runtime_/);
  });

  it("reports each study's used and entitled GPUs from the fair-share ledger, and drops a forgotten study", async () => {
    const m = createOperatorMetrics(new Registry());
    const ledger = new FairShareLedger({ gpus: 4 });
    m.sources.gpuShares = () => ledger.shares();
    ['a/s', 'b/s', 'c/s'].forEach((s, i) =>
      ledger.announce(s, { priority: 0, weight: i === 2 ? 2 : 1, gpusPerTrial: 1 }, 8),
    );
    assert.equal(ledger.available('a/s', 8), 1);
    assert.ok(ledger.reserve('a/s', 'a/s-0'));
    const scrape = async () =>
      parsePrometheusText(await m.registry.metrics())
        .filter((s) => s.name === 'kubetune_gpu_share')
        .map((s) => `${s.labels.namespace}/${s.labels.study} ${s.labels.kind}=${s.value}`)
        .sort();
    assert.deepEqual(await scrape(), [
      'a/s entitled=1',
      'a/s used=1',
      'b/s entitled=1',
      'b/s used=0',
      'c/s entitled=2',
      'c/s used=0',
    ]);
    ledger.forgetStudy('b/s');
    assert.deepEqual(
      (await scrape()).filter((line) => line.startsWith('b/s')),
      [],
      'a forgotten study keeps no series',
    );
  });

  it('wires a WorkQueue to the workqueue metrics', async () => {
    const m = createOperatorMetrics();
    const q = new WorkQueue({
      name: 'study',
      baseDelayMs: 1,
      bucket: false,
      hooks: workQueueMetricsHooks(m, 'study'),
    });
    let failed = false;
    q.add('a');
    q.add('b');
    const running = q.run(1, async (key) => {
      if (key === 'a' && !failed) {
        failed = true;
        throw new Error('once');
      }
    });
    while (q.numRequeues('a') > 0 || !failed || q.length > 0) await new Promise((r) => setTimeout(r, 2));
    q.shutDown();
    await running;
    const samples = parsePrometheusText(await m.registry.metrics());
    const value = (name: string) => samples.find((s) => s.name === name && s.labels.name === 'study')?.value;
    assert.equal(value('workqueue_adds_total'), 3);
    assert.equal(value('workqueue_retries_total'), 1);
    assert.equal(value('workqueue_depth'), 0);
    assert.equal(value('workqueue_work_duration_seconds_count'), 3);
    assert.equal(value('workqueue_queue_duration_seconds_count'), 3);
  });
});
