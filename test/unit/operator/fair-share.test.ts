import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fairShare, type ShareClaim } from '../../../src/operator/study/fair-share.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const claim = (key: string, over: Partial<ShareClaim> = {}): ShareClaim => ({
  key,
  priority: 0,
  weight: 1,
  usedGpus: 0,
  usedTrials: 0,
  demand: 8,
  gpusPerTrial: 1,
  ...over,
});

function randomClaims(rand: () => number): { claims: ShareClaim[]; gpus: number; trials?: number } {
  const claims = Array.from({ length: 1 + Math.floor(rand() * 5) }, (_, i) => {
    const gpusPerTrial = Math.floor(rand() * 4);
    const usedTrials = Math.floor(rand() * 3);
    return claim(`ns/s${i}`, {
      priority: Math.floor(rand() * 2),
      weight: 0.5 + Math.floor(rand() * 4),
      usedTrials,
      usedGpus: usedTrials * gpusPerTrial,
      demand: Math.floor(rand() * 10),
      gpusPerTrial,
    });
  });
  const gpus = Math.floor(rand() * 24);
  return rand() < 0.5 ? { claims, gpus } : { claims, gpus, trials: Math.floor(rand() * 20) };
}

describe('fairShare (weighted max-min over free GPUs)', () => {
  it('divides free GPUs by weight: 1, 1, 2 of 4 and of 8', () => {
    const claims = [claim('a/x'), claim('b/x'), claim('c/x', { weight: 2 })];
    assert.deepEqual(Object.fromEntries(fairShare(claims, { gpus: 4 })), { 'a/x': 1, 'b/x': 1, 'c/x': 2 });
    assert.deepEqual(Object.fromEntries(fairShare(claims, { gpus: 8 })), { 'a/x': 2, 'b/x': 2, 'c/x': 4 });
  });

  it('gives a newcomer the freed GPUs before studies at or above their share', () => {
    const claims = [
      claim('a/x', { usedGpus: 1, usedTrials: 1 }),
      claim('b/x', { usedGpus: 1, usedTrials: 1 }),
      claim('c/x', { weight: 2, usedGpus: 2, usedTrials: 2 }),
      claim('d/x'),
    ];
    assert.deepEqual(Object.fromEntries(fairShare(claims, { gpus: 5 })), {
      'a/x': 0,
      'b/x': 0,
      'c/x': 0,
      'd/x': 1,
    });
  });

  it('serves a higher priority completely first', () => {
    const claims = [claim('a/x', { weight: 100 }), claim('b/x', { priority: 1, demand: 3 })];
    assert.deepEqual(Object.fromEntries(fairShare(claims, { gpus: 4 })), { 'a/x': 1, 'b/x': 3 });
  });

  it('passes over a trial too big for the GPUs left and honours the trial cap', () => {
    const claims = [claim('a/x', { gpusPerTrial: 4 }), claim('b/x', { gpusPerTrial: 1, weight: 0.1 })];
    assert.deepEqual(Object.fromEntries(fairShare(claims, { gpus: 3 })), { 'a/x': 0, 'b/x': 3 });
    assert.deepEqual(Object.fromEntries(fairShare(claims, { gpus: 3, trials: 2 })), { 'a/x': 0, 'b/x': 2 });
    const cpu = [claim('a/x', { gpusPerTrial: 0, demand: 5 })];
    assert.deepEqual(Object.fromEntries(fairShare(cpu, { gpus: 0, trials: 3 })), { 'a/x': 3 });
  });

  it('holds its properties on random claims', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const rand = lcg(seed);
      const { claims, gpus, trials } = randomClaims(rand);
      const cap = trials === undefined ? { gpus } : { gpus, trials };
      const out = fairShare(claims, cap);
      const msg = `seed ${seed}`;
      assert.deepEqual(out, fairShare(claims, cap), `${msg}: deterministic`);
      assert.deepEqual(out, fairShare([...claims].reverse(), cap), `${msg}: independent of order`);
      let newGpus = 0;
      let newTrials = 0;
      for (const c of claims) {
        const n = out.get(c.key)!;
        assert.ok(n >= 0 && n <= c.demand, `${msg}: ${c.key} got ${n} of demand ${c.demand}`);
        newGpus += n * c.gpusPerTrial;
        newTrials += n;
      }
      const usedGpus = claims.reduce((s, c) => s + c.usedGpus, 0);
      const usedTrials = claims.reduce((s, c) => s + c.usedTrials, 0);
      if (newGpus > 0) assert.ok(usedGpus + newGpus <= gpus, `${msg}: GPU capacity exceeded`);
      if (newTrials > 0 && trials !== undefined)
        assert.ok(usedTrials + newTrials <= trials, `${msg}: trial cap exceeded`);
    }
  });

  it('keeps two studies with demand within one trial of their weighted shares', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const rand = lcg(seed);
      const g = 1 + Math.floor(rand() * 3);
      const a = claim('ns/a', { weight: 1 + Math.floor(rand() * 4), gpusPerTrial: g, demand: 100 });
      const b = claim('ns/b', { weight: 1 + Math.floor(rand() * 4), gpusPerTrial: g, demand: 100 });
      const gpus = Math.floor(rand() * 40);
      const out = fairShare([a, b], { gpus });
      const ga = out.get('ns/a')! * g;
      const gb = out.get('ns/b')! * g;
      const total = ga + gb;
      assert.ok(gpus - total < g, `seed ${seed}: ${gpus - total} GPUs left idle`);
      const shareA = (total * a.weight) / (a.weight + b.weight);
      assert.ok(Math.abs(ga - shareA) <= g, `seed ${seed}: a holds ${ga}, fair share ${shareA}`);
    }
  });

  it('leaves no GPU idle that a waiting trial would fit', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const { claims, gpus, trials } = randomClaims(lcg(seed));
      const out = fairShare(claims, trials === undefined ? { gpus } : { gpus, trials });
      let freeGpus = gpus;
      let freeTrials = trials ?? Infinity;
      for (const c of claims) {
        freeGpus -= c.usedGpus + out.get(c.key)! * c.gpusPerTrial;
        freeTrials -= c.usedTrials + out.get(c.key)!;
      }
      for (const c of claims) {
        if (out.get(c.key)! < c.demand && freeTrials >= 1)
          assert.ok(
            c.gpusPerTrial > 0 && c.gpusPerTrial > freeGpus,
            `seed ${seed}: ${c.key} could start one more`,
          );
      }
    }
  });
});
