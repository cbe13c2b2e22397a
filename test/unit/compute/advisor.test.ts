import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { StudySpecInput } from '../../../src/api/study.js';
import { StudyEngine } from '../../../src/engine/study-engine.js';
import type { TrialView } from '../../../src/engine/trial-view.js';
import {
  inlineAdvisor,
  PooledAdvisor,
  type PooledAdvisorOptions,
} from '../../../src/operator/compute/advisor.js';
import type { EventRecorder } from '../../../src/operator/events.js';
import { packTrials, unpackTrials } from '../../../src/operator/compute/packed-trials.js';
import { Rng } from '../../../src/engine/rng.js';
import { memoryLogger } from '../operator/support/logger.js';
import { spec } from '../../support/specs.js';

const SPINNING_WORKER = new URL('./test-worker.ts', import.meta.url);
const study: KubernetesObject = {
  apiVersion: 'kubetune.io/v1alpha1',
  kind: 'Study',
  metadata: { name: 's', namespace: 'ns' },
};

/** A history of finished trials with made-up values, plus one running trial with a curve. */
function history(engine: StudyEngine, n: number): TrialView[] {
  const rng = new Rng(7, 'history', n);
  const trials: TrialView[] = Array.from({ length: n }, (_, index) => ({
    index,
    params: engine.space.fromUnit(rng.unitVector(engine.space.size)),
    state: 'Succeeded',
    value: rng.float(),
    intermediate: [1, 2, 3].map((step) => ({ step, value: rng.float() + 1 / step })),
  }));
  trials.push({
    index: n,
    params: engine.space.fromUnit(rng.unitVector(engine.space.size)),
    state: 'Running',
    intermediate: [1, 2, 3].map((step) => ({ step, value: 5 })),
  });
  return trials;
}

function recorder(): EventRecorder & { events: { type: string; reason: string; message: string }[] } {
  const events: { type: string; reason: string; message: string }[] = [];
  return { events, emit: (_o, type, reason, message) => events.push({ type, reason, message }) };
}

describe('packed trials', () => {
  it('round-trip exactly, with and without values and points', () => {
    const engine = new StudyEngine(spec());
    const trials = [
      ...history(engine, 5),
      { index: 9, params: { optimizer: 'sgd' }, state: 'Failed' as const, intermediate: [] },
    ];
    const { packed, transfer } = packTrials(trials);
    assert.equal(transfer.length, 3);
    assert.deepEqual(unpackTrials(structuredClone(packed, { transfer })), trials);
    assert.deepEqual(unpackTrials(packTrials([]).packed), []);
  });
});

describe('pooled advisor', () => {
  const advisors: PooledAdvisor[] = [];
  const advisor = (opts: Partial<PooledAdvisorOptions> = {}) => {
    const a = new PooledAdvisor({
      workers: 2,
      suggestBudgetMs: 60_000,
      pruneBudgetMs: 60_000,
      events: recorder(),
      logger: memoryLogger().logger,
      ...opts,
    });
    advisors.push(a);
    return a;
  };
  after(async () => {
    for (const a of advisors) await a.close();
  });

  const algorithms: NonNullable<StudySpecInput['algorithm']>[] = [
    { name: 'bayesian', settings: { nCandidates: 200, localSteps: 5 } },
    { name: 'tpe', settings: {} },
    { name: 'sobol', settings: {} },
  ];
  for (const algorithm of algorithms) {
    it(`suggests what the engine suggests inline (${algorithm.name})`, async () => {
      const engine = new StudyEngine(spec({ algorithm, parallelism: 3, maxTrials: 100, seed: 11 }));
      const trials = history(engine, 15);
      const pooled = await advisor().plan(study, engine, trials, 2);
      const inline = await inlineAdvisor.plan(study, engine, trials, 2);
      assert.deepEqual(
        pooled.map((p) => p.index),
        [16, 17],
      );
      assert.deepEqual(pooled, inline);
    });
  }

  it('decides pruning as the engine does inline', async () => {
    const engine = new StudyEngine(spec({ earlyStopping: { name: 'median', settings: {} } }));
    const trials = history(engine, 10);
    const running = trials.at(-1)!;
    const pooled = await advisor().prune(study, engine, running, trials);
    assert.equal(pooled.prune, true, 'a curve stuck at 5 is worse than every finished one');
    assert.deepEqual(pooled, await inlineAdvisor.prune(study, engine, running, trials));
  });

  it('falls back to seeded random parameters when a suggestion runs past its budget, and says so', async () => {
    const events = recorder();
    const timeouts: string[] = [];
    const a = advisor({
      workerUrl: SPINNING_WORKER,
      suggestBudgetMs: 50,
      events,
      onSuggestionTimeout: (alg) => timeouts.push(alg),
    });
    const engine = new StudyEngine(spec({ algorithm: { name: 'bayesian' }, parallelism: 2, seed: 3 }));
    const trials = history(engine, 6);
    const planned = await a.plan(study, engine, trials, 2);
    assert.deepEqual(planned, [
      { index: 7, params: engine.fallback([7])[0] },
      { index: 8, params: engine.fallback([8])[0] },
    ]);
    for (const p of planned) assert.ok(engine.space.contains(p.params));
    assert.deepEqual(timeouts, ['bayesian']);
    assert.equal(events.events.length, 1);
    const [event] = events.events;
    assert.equal(event!.type, 'Warning');
    assert.equal(event!.reason, 'SuggestionTimeout');
    assert.match(event!.message, /bayesian found no parameters for trial\(s\) 7, 8 within 0\.05s/);
    // Seed and index alone decide the fallback: asking again gives the same points.
    assert.deepEqual(await a.plan(study, engine, trials, 2), planned);
  });

  it('keeps a trial running when its pruning decision runs past its budget', async () => {
    const timeouts: string[] = [];
    const { logger, records } = memoryLogger();
    const a = advisor({
      workerUrl: SPINNING_WORKER,
      pruneBudgetMs: 50,
      logger,
      onPruneTimeout: (p) => timeouts.push(p),
    });
    const engine = new StudyEngine(spec({ earlyStopping: { name: 'median', settings: {} } }));
    const trials = history(engine, 10);
    assert.deepEqual(await a.prune(study, engine, trials.at(-1)!, trials), { prune: false });
    assert.deepEqual(timeouts, ['median']);
    assert.ok(records.some((r) => String(r['msg']).includes('pruning decision ran out of time')));
  });
});
