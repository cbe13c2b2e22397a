// A configured trial kind whose CRD is missing: its informers retry with backoff while the
// operator serves the other kinds, its Studies are told why they wait, and it is picked up when
// the CRD appears. Real SupervisedInformers over a fake list (client-node's 404 ApiException).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, KubeConfig } from '@kubernetes/client-node';
import type { Informer, KubernetesObject, ListPromise } from '@kubernetes/client-node';
import { JOB, JOBSET, type TrialKind } from '../../../src/api/workload-kinds.js';
import { KindAvailability } from '../../../src/operator/kind-availability.js';
import { SupervisedInformer } from '../../../src/operator/runtime/supervised-informer.js';
import { memoryLogger } from './support/logger.js';

type Obj = KubernetesObject;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- covers both callback shapes of Informer.on
type Cb = (arg?: any) => void;

/** Lists once when started, as ListWatch does; a failed list is an `error`. */
class ListOnce implements Informer<Obj> {
  private readonly cbs = new Map<string, Cb[]>();
  constructor(private readonly listFn: ListPromise<Obj>) {}
  on(verb: string, cb: Cb): void {
    this.cbs.set(verb, [...(this.cbs.get(verb) ?? []), cb]);
  }
  off(): void {}
  async start(): Promise<void> {
    try {
      for (const o of (await this.listFn()).items) for (const cb of this.cbs.get('add') ?? []) cb(o);
    } catch (err) {
      for (const cb of this.cbs.get('error') ?? []) cb(err);
    }
  }
  async stop(): Promise<void> {}
}

const notFound = () =>
  new ApiException(404, 'Not Found', JSON.stringify({ kind: 'Status', reason: 'NotFound', code: 404 }), {});

const JOBSETS: TrialKind = { ...JOBSET, resource: 'jobsets' };
const WIDGET: TrialKind = { apiVersion: 'example.com/v1', kind: 'Widget', resource: 'widgets' };

function setup() {
  let installed = false;
  const lists = { JobSet: 0, Widget: 0 };
  const { logger, records } = memoryLogger();
  const informer = (kind: TrialKind, alwaysThere: boolean) =>
    new SupervisedInformer<Obj>(new KubeConfig(), {
      name: `${kind.resource}/ns`,
      path: `/apis/${kind.apiVersion}/namespaces/ns/${kind.resource}`,
      list: async () => {
        lists[kind.kind as keyof typeof lists]++;
        if (!alwaysThere && !installed) throw notFound();
        return { metadata: { resourceVersion: '1' }, items: [] };
      },
      logger,
      factory: (_kc, _path, list) => new ListOnce(list),
      backoff: { baseMs: 1, maxMs: 8 },
      random: () => 1,
    });
  const jobsets = { kind: JOBSETS, informers: [informer(JOBSETS, false)] };
  const widgets = { kind: WIDGET, informers: [informer(WIDGET, true)] };
  const available: string[] = [];
  const gauge = new Map<string, boolean>();
  const kinds = new KindAvailability([jobsets, widgets], logger, {
    onAvailable: (k) => available.push(k.kind),
    setAvailable: (resource, up) => gauge.set(resource, up),
  });
  for (const g of [jobsets, widgets])
    for (const i of g.informers) i.onRestart = () => kinds.informerFailed(i);
  return {
    kinds,
    lists,
    records,
    available,
    gauge,
    install: () => (installed = true),
    stop: () => Promise.all([jobsets, widgets].flatMap((g) => g.informers.map((i) => i.stop()))),
  };
}

const until = async (cond: () => boolean) => {
  while (!cond()) await sleep(1);
};

describe('trial kinds whose CRD is missing', () => {
  it('leaves the other kinds running and says, for the missing one, which kind and that its CRD is not installed', async () => {
    const s = setup();
    // Resolves once each kind has listed or failed: the operator's readiness waits for no more.
    await s.kinds.start();
    assert.deepEqual(s.available, ['Widget']);
    assert.equal(s.kinds.unavailable(WIDGET), undefined);
    assert.equal(
      s.kinds.unavailable(JOBSETS),
      'spec.trialTemplate: jobset.x-k8s.io/v1alpha2 JobSet is unavailable: CRD not installed (the API has ' +
        'no jobsets.jobset.x-k8s.io in jobset.x-k8s.io/v1alpha2); its trials start once it is available',
    );
    assert.equal(s.kinds.unavailable({ ...JOB, resource: 'jobs' }), undefined, 'Jobs are always there');
    assert.deepEqual(
      [...s.gauge],
      [
        ['jobsets.jobset.x-k8s.io', false],
        ['widgets.example.com', true],
      ],
    );
    await until(() => s.lists.JobSet >= 3);
    const warnings = s.records.filter(
      (r) =>
        r['msg'] === 'trial kind unavailable: its Studies wait for it, the operator serves the other kinds',
    );
    assert.equal(warnings.length, 1, 'one warning however often the list fails');
    assert.match(String(warnings[0]!['reason']), /^CRD not installed/);
    await s.stop();
  });

  it('retries with backoff, not in a loop, and serves the kind once its CRD appears', async () => {
    const s = setup();
    await s.kinds.start();
    const delays = () =>
      s.records
        .filter((r) => r['msg'] === 'restarting informer' && r['informer'] === 'jobsets/ns')
        .map((r) => r['delayMs']);
    await until(() => delays().length >= 5);
    assert.deepEqual(delays().slice(0, 5), [1, 2, 4, 8, 8], 'exponential, capped');
    assert.equal(s.lists.JobSet, delays().length, 'one list per restart');
    s.install();
    await until(() => s.available.includes('JobSet'));
    assert.equal(s.kinds.unavailable(JOBSETS), undefined);
    assert.equal(s.gauge.get('jobsets.jobset.x-k8s.io'), true);
    assert.deepEqual(s.available.sort(), ['JobSet', 'Widget'], 'each kind announced once');
    await s.stop();
  });
});
