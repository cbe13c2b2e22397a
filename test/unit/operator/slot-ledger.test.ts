import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SlotLedger } from '../../../src/operator/study/slot-ledger.js';

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
