import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Assignment } from '../../../src/api/parameter.js';
import type { Goal } from '../../../src/api/study.js';
import { createStudy } from '../../../src/engine/ask-tell.js';
import { inSpace, mixedObjective, mixedParameters, runStudy } from './common.js';

// Behaviour every model-based sampler shares. Budgets are small to keep the suite fast.
const SAMPLERS = [
  { name: 'tpe' as const, settings: { nStartup: 5 } },
  { name: 'bayesian' as const, settings: { nInitial: 5, nCandidates: 300, localSteps: 10 } },
];

for (const { name, settings } of SAMPLERS) {
  describe(`${name} sampler (shared contract)`, () => {
    it('stays in bounds and respects ints, steps and categories', async () => {
      const { asked } = await runStudy(name, 1, 20, { settings });
      for (const p of asked) assert.ok(inSpace(p), JSON.stringify(p));
    });

    it('is deterministic by seed and differs across seeds', async () => {
      const a = await runStudy(name, 7, 14, { settings });
      const b = await runStudy(name, 7, 14, { settings });
      const c = await runStudy(name, 8, 14, { settings });
      assert.deepEqual(a.asked, b.asked);
      assert.notDeepEqual(a.asked, c.asked);
    });

    it('survives an all-failed history and keeps proposing new points', async () => {
      const { asked } = await runStudy(name, 2, 12, { settings, fail: () => true });
      assert.equal(asked.length, 12);
      for (const p of asked) assert.ok(inSpace(p));
      assert.equal(new Set(asked.map((p) => JSON.stringify(p))).size, asked.length);
    });

    it('handles a history mixing failed and succeeded trials', async () => {
      const { asked, study } = await runStudy(name, 3, 14, { settings, fail: (i) => i % 3 === 0 });
      assert.equal(asked.length, 14);
      assert.ok(study.best());
    });

    it('gives distinct points in a batch and around pending trials', async () => {
      const study = createStudy({
        parameters: mixedParameters,
        objective: { metric: 'loss', goal: 'minimize' },
        algorithm: { name, settings },
        seed: 4,
        maxTrials: 100,
      });
      for (const t of await study.ask(8)) study.tell(t.id, mixedObjective(t.params));
      const pending = await study.ask(3); // left running
      const batch = await study.ask(6);
      const keys = [...pending, ...batch].map((t) => JSON.stringify(t.params));
      assert.equal(new Set(keys).size, keys.length);
    });

    it('rejects unknown settings with the field path', () => {
      assert.throws(
        () =>
          createStudy({
            parameters: mixedParameters,
            objective: { metric: 'loss', goal: 'minimize' },
            algorithm: { name, settings: { noSuchSetting: 1 } },
          }),
        /algorithm\.settings\.noSuchSetting: unknown setting/,
      );
    });

    it('maximises when the goal says so', async () => {
      const accuracy = (p: Assignment) => -mixedObjective(p);
      const run = async (goal: Goal, f: (p: Assignment) => number) => {
        const study = createStudy({
          parameters: mixedParameters,
          objective: { metric: 'acc', goal },
          algorithm: { name, settings },
          seed: 5,
        });
        const asked: Assignment[] = [];
        for (let i = 0; i < 20; i++) {
          const [t] = await study.ask();
          asked.push(t!.params);
          study.tell(t!.id, f(t!.params));
        }
        return { asked, best: Math.max(...asked.map(accuracy)) };
      };
      const maximised = await run('maximize', accuracy);
      // Maximising accuracy is minimising its negation: the same points, or the goal was misread.
      assert.deepEqual(maximised.asked, (await run('minimize', (p) => -accuracy(p))).asked);
      // A sampler that ignored the goal would propose the same points as when minimising.
      const minimised = await run('minimize', accuracy);
      assert.ok(
        maximised.best > minimised.best,
        `best accuracy ${maximised.best} when maximising, ${minimised.best} when minimising`,
      );
    });
  });
}
