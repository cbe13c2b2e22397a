// The metrics tracker's error paths against a local HTTP server standing in for pods/log.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServerResponse } from 'node:http';
import type { V1Pod } from '@kubernetes/client-node';
import type { TrialStatus } from '../../../src/api/trial.js';
import type { ParsedStudy, TrialObject } from '../../../src/operator/kube/resources.js';
import { StudyEngine } from '../../../src/engine/study-engine.js';
import { TrialMetricsTracker } from '../../../src/operator/trials/metrics-tracker.js';
import { spec } from '../../support/specs.js';
import { startFakeApi, sendStatus, type FakeApi } from './support/fake-api.js';
import { memoryLogger } from './support/logger.js';

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
};
const study: ParsedStudy = {
  apiVersion: 'kubetune.io/v1alpha1',
  kind: 'Study',
  metadata: { name: 'demo', namespace: 'ns', uid: 's' },
  spec: spec(),
};
const trial: TrialObject = {
  apiVersion: 'kubetune.io/v1alpha1',
  kind: 'Trial',
  metadata: { name: 'demo-0', namespace: 'ns', uid: 't' },
  spec: { study: 'demo', index: 0, parameters: {} },
};
const pod = (name: string): V1Pod => ({ metadata: { name, namespace: 'ns' }, status: { phase: 'Running' } });
const apiError = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code, body: '{}' });

describe('trial metrics tracker', () => {
  let api: FakeApi;
  const trackers: TrialMetricsTracker[] = [];
  before(async () => {
    api = await startFakeApi();
    // Each pod prints one line with its own loss, then keeps the stream open.
    api.route('GET', /^\/api\/v1\/namespaces\/ns\/pods\/([^/]+)\/log$/, (req, res) => {
      const name = req.path.split('/')[6] as string;
      if (name === 'gone') return sendStatus(res, 404, 'NotFound', `pods "${name}" not found`);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(`2026-01-01T00:00:01Z epoch=1 loss=${name === 'attempt-1' ? 5 : 1}\n`);
    });
  });
  after(async () => {
    for (const t of trackers) t.stopAll();
    await api.close();
  });

  /** A tracker over the fake API, stopped after the suite; `opts` replaces any default. */
  function tracker(
    patch: (status: Partial<TrialStatus>) => Promise<void>,
    opts: Partial<ConstructorParameters<typeof TrialMetricsTracker>[0]> = {},
  ) {
    const t = new TrialMetricsTracker({
      kc: api.kc,
      logger: memoryLogger().logger,
      recordProgress: (_ns, _name, values) => patch(values),
      onProgress: () => {},
      flushIntervalMs: 5,
      ...opts,
    });
    trackers.push(t);
    return t;
  }

  it('follows the new pod after a Job retry, and starts the values over', { timeout: 30_000 }, async () => {
    const flushed: Partial<TrialStatus>[] = [];
    const t = tracker(async (s) => void flushed.push(s));
    t.ensure(study, trial, pod('attempt-1'), 'trainer');
    await until(() => flushed.length >= 1);
    t.ensure(study, trial, pod('attempt-2'), 'trainer');
    await until(() => flushed.some((s) => s.intermediate?.[0]?.value === 1));
    assert.deepEqual(t.collector(trial)?.intermediate(), [{ step: 1, value: 1 }]);
    assert.deepEqual(flushed.at(-1)?.intermediate, [{ step: 1, value: 1 }]);
    t.stop(trial);
  });

  it('stops tracking a trial whose status write answers 404 (the Trial was deleted)', async () => {
    let writes = 0;
    const t = tracker(async () => {
      writes++;
      throw apiError(404);
    });
    t.ensure(study, trial, pod('attempt-1'), 'trainer');
    await until(() => t.trackedKeys('ns/demo').length === 0 || writes >= 2);
    assert.equal(writes, 1);
    assert.deepEqual(t.trackedKeys('ns/demo'), []);
  });

  it('stops once the trial is no longer Running (the conditional write answers 422)', async () => {
    let writes = 0;
    const t = tracker(async () => {
      writes++;
      throw apiError(422);
    });
    t.ensure(study, trial, pod('attempt-1'), 'trainer');
    await until(() => t.trackedKeys('ns/demo').length === 0 || writes >= 2);
    assert.equal(writes, 1);
    assert.deepEqual(t.trackedKeys('ns/demo'), []);
  });

  it('retries a status write that failed with 503', async () => {
    let writes = 0;
    const t = tracker(async () => {
      if (++writes === 1) throw apiError(503);
    });
    t.ensure(study, trial, pod('attempt-1'), 'trainer');
    await until(() => writes >= 2);
    assert.deepEqual(t.trackedKeys('ns/demo'), ['ns/demo-0']);
    t.stop(trial);
  });

  it('keeps what it saw when the pod is gone (404), for the final values', async () => {
    const t = tracker(async () => {});
    t.ensure(study, trial, pod('gone'), 'trainer');
    await until(() => api.requests.some((r) => r.path.endsWith('/pods/gone/log')));
    assert.deepEqual(t.trackedKeys('ns/demo'), ['ns/demo-0']);
    assert.ok(t.collector(trial));
    t.stop(trial);
  });

  describe("a container's exit", () => {
    // The container prints one line and exits: its log stream ends cleanly when the test says so.
    const streams = new Map<string, ServerResponse>();
    before(() =>
      api.route('GET', /^\/api\/v1\/namespaces\/ns\/pods\/exits-[^/]+\/log$/, (req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('2026-01-01T00:00:01Z epoch=1 loss=1\n');
        streams.set(req.path.split('/')[6] as string, res);
      }),
    );
    const logRequests = (name: string) => api.requests.filter((r) => r.path.endsWith(`/pods/${name}/log`));
    const exited = (name: string): V1Pod => ({
      ...pod(name),
      status: {
        phase: 'Succeeded',
        containerStatuses: [
          {
            name: 'trainer',
            image: 'i',
            imageID: 'i',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 0 } },
          },
        ],
      },
    });
    /** A tracker whose informer holds `cached`; `asked` counts the follower's looks at it. */
    const withCache = (cached: (name: string) => V1Pod | undefined) => {
      const asked: string[] = [];
      const reconnects: number[] = [];
      const t = tracker(async () => {}, {
        onLogReconnect: () => reconnects.push(1),
        cachedPod: (_ns, name) => {
          asked.push(name);
          return cached(name);
        },
      });
      return { t, asked, reconnects };
    };

    it('does not reopen the log once the informer has the pod terminated', { timeout: 30_000 }, async () => {
      const { t, asked, reconnects } = withCache(exited);
      t.ensure(study, trial, pod('exits-cached'), 'trainer');
      await until(() => streams.has('exits-cached'));
      streams.get('exits-cached')!.end();
      await until(() => asked.length > 0 || logRequests('exits-cached').length >= 2);
      assert.equal(logRequests('exits-cached').length, 1);
      assert.equal(reconnects.length, 0);
      t.stop(trial);
    });

    it(
      'does not reopen the log once a reconcile has passed the pod terminated',
      { timeout: 30_000 },
      async () => {
        // The informer lags: only the reconcile's ensure() says the container exited.
        const { t, asked, reconnects } = withCache(() => undefined);
        t.ensure(study, trial, pod('exits-ensured'), 'trainer');
        await until(() => streams.has('exits-ensured'));
        t.ensure(study, trial, exited('exits-ensured'), 'trainer');
        streams.get('exits-ensured')!.end();
        await until(() => asked.length > 0 || logRequests('exits-ensured').length >= 2);
        assert.equal(logRequests('exits-ensured').length, 1);
        assert.equal(reconnects.length, 0);
        t.stop(trial);
      },
    );
  });

  describe('batched writes', () => {
    // A log the test writes to line by line; the flush interval is far longer than the test, so
    // any write seen is one that did not wait for it.
    const streams = new Map<string, ServerResponse>();
    before(() =>
      api.route('GET', /^\/api\/v1\/namespaces\/ns\/pods\/stepped-[^/]+\/log$/, (req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('');
        streams.set(req.path.split('/')[6] as string, res);
      }),
    );
    const print = (pod: string, steps: number[]) =>
      streams
        .get(pod)
        ?.write(
          steps
            .map((s) => `2026-01-01T00:00:${String(s).padStart(2, '0')}Z epoch=${s} loss=${1 / s}\n`)
            .join(''),
        );
    const asha = new StudyEngine(
      spec({ earlyStopping: { name: 'asha', settings: { minResource: 2, reductionFactor: 2 } } }),
    );

    it('writes at once the values that reach an ASHA rung, with the rest of their burst', async () => {
      const flushed: number[][] = [];
      const t = tracker(async (values) => void flushed.push((values.intermediate ?? []).map((p) => p.step)), {
        flushIntervalMs: 600_000,
      });
      t.ensure(study, trial, pod('stepped-a'), 'trainer', (after, upTo) =>
        asha.judgesBetween(0, after, upTo),
      );
      await until(() => streams.has('stepped-a'));
      print('stepped-a', [1]);
      await until(() => t.collector(trial)?.intermediate().length === 1);
      print('stepped-a', [2, 3]); // rung 2, and step 3 in the same burst
      await until(() => flushed.length === 1);
      assert.deepEqual(flushed, [[1, 2, 3]], 'step 1 waited; rung 2 took it and step 3 along');
      print('stepped-a', [4]); // rung 4
      await until(() => flushed.length === 2);
      print('stepped-a', [5, 6, 7]);
      await until(() => t.collector(trial)?.intermediate().length === 7);
      print('stepped-a', [8]); // rung 8
      await until(() => flushed.length === 3);
      assert.deepEqual(flushed, [
        [1, 2, 3],
        [1, 2, 3, 4],
        [1, 2, 3, 4, 5, 6, 7, 8],
      ]);
      t.stop(trial);
    });

    it('has the study reconciled only after writes that reach a step the pruner judges', async () => {
      const flushed: number[][] = [];
      const reconciles: number[][] = [];
      const t = tracker(async (values) => void flushed.push((values.intermediate ?? []).map((p) => p.step)), {
        onProgress: () => void reconciles.push(flushed.at(-1) ?? []),
      });
      t.ensure(study, trial, pod('stepped-r'), 'trainer', (after, upTo) =>
        asha.judgesBetween(0, after, upTo),
      );
      await until(() => streams.has('stepped-r'));
      // A write's answer is handled before the next write starts, so each wait below also
      // waits for the previous write's reconcile request, if any.
      for (const [n, step] of [1, 2, 3, 4].entries()) {
        print('stepped-r', [step]);
        await until(() => flushed.length === n + 1);
      }
      print('stepped-r', [5]);
      await until(() => flushed.length === 5);
      // Rungs 2 and 4 can be decided on; steps 1 and 3 cannot.
      assert.deepEqual(reconciles, [
        [1, 2],
        [1, 2, 3, 4],
      ]);
      t.stop(trial);
    });

    it('writes nothing before the interval when no value reaches a step the pruner judges', async () => {
      const flushed: number[][] = [];
      const t = tracker(async (values) => void flushed.push((values.intermediate ?? []).map((p) => p.step)), {
        flushIntervalMs: 600_000,
      });
      const none = new StudyEngine(spec());
      t.ensure(study, trial, pod('stepped-b'), 'trainer', (after, upTo) =>
        none.judgesBetween(0, after, upTo),
      );
      await until(() => streams.has('stepped-b'));
      print('stepped-b', [1, 2, 3, 4, 5, 6, 7, 8]);
      await until(() => t.collector(trial)?.intermediate().length === 8);
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(flushed, []);
      t.stop(trial);
    });

    it('never has two writes of one trial in flight: the next waits for the answer', async () => {
      const answers: (() => void)[] = [];
      const flushed: number[][] = [];
      const t = tracker(
        (values) => {
          flushed.push((values.intermediate ?? []).map((p) => p.step));
          return new Promise<void>((resolve) => answers.push(resolve));
        },
        { flushIntervalMs: 600_000 },
      );
      t.ensure(study, trial, pod('stepped-c'), 'trainer', () => true);
      await until(() => streams.has('stepped-c'));
      print('stepped-c', [1]);
      await until(() => flushed.length === 1);
      print('stepped-c', [2]);
      await until(() => t.collector(trial)?.intermediate().length === 2);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(flushed.length, 1, 'the second write waits for the first');
      answers[0]?.();
      await until(() => flushed.length === 2);
      assert.deepEqual(flushed, [[1], [1, 2]]);
      answers[1]?.();
      t.stop(trial);
    });
  });
});
