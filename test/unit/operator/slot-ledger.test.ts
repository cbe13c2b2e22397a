import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { announcedDemand, FairShareLedger, SlotLedger } from '../../../src/operator/study/slot-ledger.js';

/** A small seeded generator, so an interleaving that breaks the cap can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('slot ledger (operator-wide maxConcurrentTrials)', () => {
  it('reserves up to the cap, then refuses and wakes the refused study when a slot frees', () => {
    const woken: string[] = [];
    const ledger = new SlotLedger(2, (s) => woken.push(s));
    assert.equal(ledger.available('ns/a', 3), 2);
    assert.ok(ledger.reserve('ns/a', 'ns/a-0'));
    assert.ok(ledger.reserve('ns/b', 'ns/b-0'));
    assert.ok(ledger.reserve('ns/b', 'ns/b-0'), 'a trial that holds a slot keeps it');
    assert.equal(ledger.reserve('ns/c', 'ns/c-0'), false);
    assert.equal(ledger.available('ns/d', 1), 0);
    assert.deepEqual(woken, []);
    ledger.release('ns/a-0');
    assert.deepEqual(woken.sort(), ['ns/a', 'ns/c', 'ns/d']);
    ledger.release('ns/a-0');
    assert.equal(woken.length, 3, 'releasing twice frees one slot once');
    assert.equal(ledger.inUse, 1);
  });

  it('syncs a study to its listed active trials: counts ones from before a restart, frees vanished ones', () => {
    const ledger = new SlotLedger(2);
    ledger.hold('ns/a', 'ns/a-0');
    ledger.hold('ns/a', 'ns/a-1');
    ledger.hold('ns/b', 'ns/b-0');
    assert.equal(ledger.inUse, 3, 'trials found at startup hold slots even above the cap');
    assert.equal(ledger.available('ns/c', 1), 0);
    ledger.sync('ns/a', ['ns/a-1']);
    assert.equal(ledger.inUse, 2);
    ledger.forgetStudy('ns/b');
    assert.equal(ledger.inUse, 1);
    assert.ok(ledger.reserve('ns/c', 'ns/c-0'));
    assert.equal(ledger.reserve('ns/c', 'ns/c-1'), false);
  });

  it('holds the cap while 4 workers reconcile 6 studies at once, and every study still finishes', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = lcg(seed);
      const cap = 3;
      const parallelism = 2;
      const maxTrials = 5;
      const queue: string[] = [];
      const ledger = new SlotLedger(cap, (s) => queue.includes(s) || queue.push(s));
      const studies = ['ns/a', 'ns/b', 'ns/c', 'ns/d', 'ns/e', 'ns/f'];
      const active = new Map(studies.map((s) => [s, new Set<string>()]));
      const created = new Map(studies.map((s) => [s, 0]));
      let running = 0;
      let most = 0;
      // An await that yields to other workers a random number of times, as API calls do.
      const apiCall = async () => {
        for (let i = Math.floor(random() * 4); i >= 0; i--) await Promise.resolve();
      };

      // The reconciler's pattern: list, sync, end some trials, plan, then reserve and create.
      const reconcile = async (study: string) => {
        await apiCall();
        const mine = active.get(study)!;
        ledger.sync(study, mine);
        for (const trial of [...mine]) {
          if (random() < 0.5) continue;
          mine.delete(trial);
          running--;
          ledger.release(trial);
        }
        const wanted = ledger.available(
          study,
          Math.min(parallelism - mine.size, maxTrials - created.get(study)!),
        );
        await apiCall();
        for (let i = 0; i < wanted; i++) {
          const trial = `${study}-${created.get(study)}`;
          if (!ledger.reserve(study, trial)) break;
          created.set(study, created.get(study)! + 1);
          await apiCall();
          mine.add(trial);
          running++;
          most = Math.max(most, running);
        }
        if (mine.size > 0) queue.push(study);
      };

      queue.push(...studies);
      const busy = new Set<string>();
      const worker = async () => {
        for (let idle = 0; idle < 50;) {
          const next = queue.findIndex((s) => !busy.has(s));
          if (next < 0) {
            idle++;
            await apiCall();
            continue;
          }
          idle = 0;
          const [study] = queue.splice(next, 1) as [string];
          busy.add(study);
          await reconcile(study);
          busy.delete(study);
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      assert.ok(most <= cap, `seed ${seed}: ${most} trials active at once, cap ${cap}`);
      assert.equal(most, cap, `seed ${seed}: the cap was never used in full`);
      assert.deepEqual(
        [...created.values()],
        studies.map(() => maxTrials),
        `seed ${seed}: a study starved`,
      );
    }
  });
});

describe('fair-share ledger (operator-wide maxGPUs)', () => {
  const profile = (weight: number, gpusPerTrial = 1) => ({ priority: 0, weight, gpusPerTrial });

  it('holds a grant against concurrent passes, then moves freed GPUs to the weighted shares', () => {
    const ledger = new FairShareLedger({ gpus: 4 });
    ['a/s', 'b/s', 'c/s'].forEach((s, i) => ledger.profile(s, profile(i === 2 ? 2 : 1)));
    assert.equal(ledger.available('a/s', 8), 4, 'alone, a may use every free GPU');
    assert.equal(ledger.available('c/s', 8), 0, 'a holds the grant it has not reserved yet');
    assert.equal(ledger.available('b/s', 8), 0);
    for (let i = 0; i < 4; i++) assert.ok(ledger.reserve('a/s', `a/s-${i}`));
    assert.equal(ledger.reserve('a/s', 'a/s-4'), false, 'no grant left');
    const held: Record<string, string[]> = {
      'a/s': ['a/s-0', 'a/s-1', 'a/s-2', 'a/s-3'],
      'b/s': [],
      'c/s': [],
    };
    let n = 0;
    // Nothing is taken back: each of a's trials ends, and every study asks again (a first).
    for (const trial of ['a/s-0', 'a/s-1', 'a/s-2', 'a/s-3']) {
      ledger.release(trial);
      held['a/s'] = held['a/s']!.filter((t) => t !== trial);
      for (const s of ['a/s', 'b/s', 'c/s'])
        for (let k = ledger.available(s, 8); k > 0; k--) {
          const key = `${s}-new${n++}`;
          assert.ok(ledger.reserve(s, key));
          held[s]!.push(key);
        }
    }
    assert.deepEqual(
      Object.values(held).map((t) => t.length),
      [1, 1, 2],
    );
  });

  it('gives the first study of a burst only its share when the others were announced before any pass', () => {
    const ledger = new FairShareLedger({ gpus: 4 });
    ['a/s', 'b/s', 'c/s'].forEach((s, i) => ledger.announce(s, profile(i === 2 ? 2 : 1), 8));
    assert.equal(ledger.available('a/s', 8), 1, 'a waits alongside b and c (weights 1, 1, 2)');
    assert.equal(ledger.available('c/s', 8), 2);
    assert.equal(ledger.available('b/s', 8), 1);
    assert.equal(ledger.available('a/s', 8), 1, 'asking again returns the same grant, no more');
  });

  it('never exceeds the GPUs under random interleavings of passes and releases', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rand = lcg(seed);

      const ledger = new FairShareLedger({ gpus: 6 });
      const studies = ['a/s', 'b/s', 'c/s'];
      studies.forEach((s, i) => ledger.profile(s, profile(1 + i, 1 + (i % 2))));
      const active: string[] = [];
      let n = 0;
      for (let step = 0; step < 200; step++) {
        const s = studies[Math.floor(rand() * studies.length)]!;
        const r = rand();
        if (r < 0.5) {
          const got = ledger.available(s, Math.floor(rand() * 4));
          for (let i = 0; i < got; i++) {
            const key = `${s}-${n++}`;
            if (rand() < 0.9 && ledger.reserve(s, key)) active.push(key);
          }
          ledger.settle(s);
        } else if (active.length > 0) {
          ledger.release(active.splice(Math.floor(rand() * active.length), 1)[0]!);
        }
        assert.ok(ledger.gpusInUse <= 6, `seed ${seed}: ${ledger.gpusInUse} GPUs in use`);
      }
    }
  });

  it('wakes a study left wanting once GPUs free up, and gives the freed GPU to the one below its share', () => {
    const woken: string[] = [];
    const ledger = new FairShareLedger({ gpus: 2 }, (s) => woken.push(s));
    ledger.profile('a/s', profile(1));
    ledger.profile('b/s', profile(1));
    assert.equal(ledger.available('a/s', 2), 2);
    assert.ok(ledger.reserve('a/s', 'a/s-0') && ledger.reserve('a/s', 'a/s-1'));
    assert.equal(ledger.available('b/s', 2), 0);
    ledger.release('a/s-0');
    assert.deepEqual(woken, ['b/s']);
    assert.equal(ledger.available('a/s', 1), 0, 'a is at its share while b waits');
    assert.equal(ledger.available('b/s', 2), 1);
  });
});

describe('fair-share ledger with trials of different sizes (GPU counts that are parameters)', () => {
  const profile = (gpusPerTrial: number) => ({ priority: 0, weight: 1, gpusPerTrial });

  it('grants for the largest trial but holds what each trial asks for, so the rest goes to others', () => {
    const ledger = new FairShareLedger({ gpus: 4 });
    ledger.profile('a/s', profile(4));
    ledger.profile('b/s', profile(1));
    assert.equal(ledger.available('a/s', 2), 1, 'one trial of up to 4 GPUs fits');
    assert.ok(ledger.reserve('a/s', 'a/s-0', 1));
    ledger.settle('a/s');
    assert.equal(ledger.gpusInUse, 1, 'the trial drew 1 GPU and holds 1');
    assert.equal(ledger.available('b/s', 8), 3);
  });

  it('counts trials found at startup or by a pass with their own GPUs', () => {
    const ledger = new FairShareLedger({ gpus: 8 });
    ledger.profile('a/s', profile(4));
    ledger.hold('a/s', 'a/s-0', 1);
    ledger.sync('a/s', ['a/s-0', 'a/s-1'], (trial) => (trial === 'a/s-1' ? 2 : 4));
    assert.equal(ledger.gpusInUse, 3);
    assert.deepEqual(ledger.shares().get('a/s')?.used, 3);
  });
});

describe('demand announced for a study before its pass', () => {
  const spec = { parallelism: 8, maxTrials: 10 };
  it('is parallelism less active trials, bounded by the trials maxTrials still allows', () => {
    assert.equal(announcedDemand(spec, undefined, []), 8, 'a new study with no status wants parallelism');
    assert.equal(announcedDemand(spec, 'Running', ['Running', 'Pending', undefined]), 5);
    assert.equal(announcedDemand(spec, 'Running', [...Array(8).fill('Succeeded'), 'Running']), 1);
    assert.equal(announcedDemand(spec, 'Running', Array(10).fill('Failed')), 0);
  });
  it('is zero for a suspended or finished study', () => {
    assert.equal(announcedDemand({ ...spec, suspend: true }, 'Suspended', []), 0);
    assert.equal(announcedDemand(spec, 'Succeeded', ['Succeeded']), 0);
    assert.equal(announcedDemand(spec, 'Failed', []), 0);
  });
});
