import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Goal } from '../../../src/api/study.js';
import type { TrialState } from '../../../src/api/trial.js';
import { createStudy } from '../../../src/engine/ask-tell.js';
import type { PruneDecision, Pruner } from '../../../src/engine/pruner.js';
import { SettingsError } from '../../../src/engine/sampler.js';
import { StudyEngine } from '../../../src/engine/study-engine.js';
import type { TrialView } from '../../../src/engine/trial-view.js';
import { createAshaPruner, rungsBetween } from '../../../src/pruners/asha.js';
import { bracketOf, createHyperbandPruner, hyperbandPlan } from '../../../src/pruners/hyperband.js';
import { PRUNERS } from '../../../src/pruners/index.js';
import { createMedianPruner, createPercentilePruner } from '../../../src/pruners/percentile.js';
import { spec } from '../../support/specs.js';

/** A trial with values at the given steps; `curve` maps step → value. */
function tv(index: number, curve: Record<number, number>, state: TrialState = 'Running'): TrialView {
  const intermediate = Object.entries(curve)
    .map(([step, value]) => ({ step: Number(step), value }))
    .sort((a, b) => a.step - b.step);
  return { index, params: {}, state, intermediate };
}

/** Trials 1..n that finished with `values[i]` at `step` (and nothing else). */
function peers(step: number, values: number[], first = 1): TrialView[] {
  return values.map((v, i) => tv(first + i, { [step]: v }, 'Succeeded'));
}

function decide(p: Pruner, trial: TrialView, others: TrialView[], goal: Goal = 'minimize'): PruneDecision {
  return p.decide(trial, { goal, trials: [trial, ...others] });
}

function reasonOf(d: PruneDecision): string {
  assert.ok(d.prune, 'expected the trial to be pruned');
  return d.reason;
}

describe('median pruner', () => {
  const median = createMedianPruner({});
  const others = [1, 2, 3, 4, 5].map((i) => tv(i, { 1: 1, 2: 1, 3: 0.4 + i / 10 }, 'Succeeded'));

  it('prunes a trial whose best-so-far is worse than the median at its step', () => {
    // Others' best by step 3: 0.5 0.6 0.7 0.8 0.9 → median 0.7.
    const d = decide(median, tv(0, { 1: 2, 2: 2, 3: 0.75 }), others);
    assert.match(reasonOf(d), /median: best value 0\.75 by step 3 is worse than the median 0\.7 of 5 other/);
    assert.equal(d.prune && d.step, 3);
    assert.deepEqual(decide(median, tv(0, { 1: 2, 2: 2, 3: 0.7 }), others), { prune: false }, 'ties kept');
    // Best so far, not the latest value: 0.6 at step 1 beats the median.
    assert.deepEqual(decide(median, tv(0, { 1: 0.6, 2: 2, 3: 2 }), others), { prune: false });
  });

  it('waits for warmupSteps and startupTrials', () => {
    assert.deepEqual(decide(median, tv(0, { 1: 9, 2: 9 }), others), { prune: false }, 'step 2 <= warmup');
    assert.deepEqual(decide(median, tv(0, { 1: 9, 2: 9, 3: 9 }), others.slice(0, 4)), { prune: false });
    // Trials that have not reached step 3 do not count towards the five.
    const short = [6, 7].map((i) => tv(i, { 1: 0, 2: 0 }));
    assert.deepEqual(decide(median, tv(0, { 1: 9, 2: 9, 3: 9 }), [...others.slice(0, 4), ...short]), {
      prune: false,
    });
    const eager = createMedianPruner({ startupTrials: 1, warmupSteps: 0 });
    assert.ok(decide(eager, tv(0, { 1: 9 }), [tv(1, { 1: 1 })]).prune);
  });

  it('follows the goal for maximize', () => {
    const rising = [1, 2, 3, 4, 5].map((i) => tv(i, { 1: 0, 2: 0, 3: 0.4 + i / 10 }, 'Succeeded'));
    const d = decide(median, tv(0, { 1: 0, 2: 0, 3: 0.65 }), rising, 'maximize');
    assert.match(reasonOf(d), /0\.65 .* median 0\.7 of 5/);
    assert.deepEqual(decide(median, tv(0, { 1: 0, 2: 0, 3: 0.72 }), rising, 'maximize'), { prune: false });
    // Best so far counts for maximize too: 1 at step 1 beats the median of `others` (1).
    assert.deepEqual(decide(median, tv(0, { 1: 1, 2: 0, 3: 0 }), others, 'maximize'), { prune: false });
  });

  it('ignores failed trials', () => {
    const failed = [6, 7, 8].map((i) => tv(i, { 1: 0, 2: 0, 3: 0 }, 'Failed'));
    assert.deepEqual(decide(median, tv(0, { 3: 0.7 }), [...others, ...failed]), { prune: false });
  });
});

describe('percentile pruner', () => {
  const others = [1, 2, 3, 4, 5].map((i) => tv(i, { 3: i }, 'Succeeded'));
  const p25 = createPercentilePruner({ warmupSteps: 0 });

  it('keeps only the top 25% by default (minimize: cutoff is the 25th percentile)', () => {
    // [1..5]: 25th percentile = 2.
    assert.match(reasonOf(decide(p25, tv(0, { 3: 2.5 }), others)), /25th percentile 2 of 5/);
    assert.deepEqual(decide(p25, tv(0, { 3: 2 }), others), { prune: false });
  });

  it('maximize: cutoff is the 75th percentile of the raw values', () => {
    assert.match(reasonOf(decide(p25, tv(0, { 3: 3.9 }), others, 'maximize')), /percentile 4 of 5/);
    assert.deepEqual(decide(p25, tv(0, { 3: 4 }), others, 'maximize'), { prune: false });
  });

  it('interpolates between values', () => {
    const p60 = createPercentilePruner({ percentile: 60, warmupSteps: 0, startupTrials: 1 });
    // [1,2,3,4,5] at 60%: position 2.4 → 3.4.
    assert.match(reasonOf(decide(p60, tv(0, { 3: 3.5 }), others)), /60th percentile 3\.4/);
    assert.deepEqual(decide(p60, tv(0, { 3: 3.4 }), others), { prune: false });
  });
});

describe('asha pruner', () => {
  it('places rungs at minResource·η^k below maxResource', () => {
    const steps = (cfg: Parameters<typeof rungsBetween>[0]) =>
      rungsBetween(cfg, -Infinity, 1000).map((r) => r.step);
    const base = { minResource: 1, reductionFactor: 3, startupTrials: 3, warmupSteps: 0 };
    assert.deepEqual(steps({ ...base, maxResource: 27 }), [1, 3, 9]);
    assert.deepEqual(steps(base), [1, 3, 9, 27, 81, 243, 729]);
    assert.deepEqual(steps({ ...base, minResource: 2, reductionFactor: 2, maxResource: 16 }), [2, 4, 8]);
    assert.deepEqual(
      rungsBetween({ ...base, maxResource: 27 }, 1, 9).map((r) => r.k),
      [1, 2],
    );
  });

  it('keeps the top ⌊n/η⌋ at a rung, ties included, and names rung, rank and cutoff', () => {
    const asha = createAshaPruner({ maxResource: 27 });
    const others = peers(1, [1, 2, 3, 4, 5, 6, 7, 8]);
    // n = 9 with the new trial, so the top 3 continue.
    assert.deepEqual(decide(asha, tv(0, { 1: 2.5 }), others), { prune: false });
    assert.deepEqual(decide(asha, tv(0, { 1: 3 }), others), { prune: false }, 'tied with the cutoff');
    const d = decide(asha, tv(0, { 1: 3.5 }), others);
    assert.equal(
      reasonOf(d),
      'asha: at rung 0 (step 1) value 3.5 ranks 4 of 9; only the top 3 (1/3) continue, cutoff 3',
    );
    assert.equal(d.prune && d.step, 1);
  });

  it('mirrors for maximize', () => {
    const asha = createAshaPruner({});
    const others = peers(1, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(decide(asha, tv(0, { 1: 6 }), others, 'maximize'), { prune: false });
    assert.match(reasonOf(decide(asha, tv(0, { 1: 5.5 }), others, 'maximize')), /ranks 4 of 9.*cutoff 6$/);
  });

  it('prunes no one until startupTrials (default η) trials have a value at the rung', () => {
    const asha = createAshaPruner({});
    assert.deepEqual(decide(asha, tv(0, { 1: 9 }), []), { prune: false });
    assert.deepEqual(decide(asha, tv(0, { 1: 9 }), peers(1, [1])), { prune: false });
    assert.match(reasonOf(decide(asha, tv(0, { 1: 9 }), peers(1, [1, 2]))), /ranks 3 of 3; only the top 1/);
    assert.deepEqual(decide(asha, tv(0, { 1: 0.5 }), peers(1, [1, 2])), { prune: false });
    const patient = createAshaPruner({ startupTrials: 5 });
    assert.deepEqual(decide(patient, tv(0, { 1: 9 }), peers(1, [1, 2, 3])), { prune: false });
    assert.ok(decide(patient, tv(0, { 1: 9 }), peers(1, [1, 2, 3, 4])).prune);
  });

  it('judges each rung once, when the newest report crosses it', () => {
    const asha = createAshaPruner({});
    const others = peers(1, [1, 2, 3, 4, 6, 7, 8, 9]);
    assert.ok(decide(asha, tv(0, { 1: 5 }), others).prune, 'rank 5 of 9 at rung 0');
    // Promoted earlier; step 2 crosses no rung, so the rung-0 verdict is not revisited.
    assert.deepEqual(decide(asha, tv(0, { 1: 5, 2: 4 }), others), { prune: false });
  });

  it('uses the value at the last step <= the rung, once the trial has reached it', () => {
    const asha = createAshaPruner({});
    const others = [1, 2, 3].map((i) => tv(i, { 1: 5, 2: 5, 3: i }, 'Succeeded'));
    // One report covered steps 2..4: rung 3 sees the step-1 value 9, not the later 0.1.
    const d = decide(asha, tv(0, { 1: 9, 4: 0.1 }), others);
    assert.match(reasonOf(d), /at rung 1 \(step 3\) value 9 ranks 4 of 4/);
    assert.equal(d.prune && d.step, 4);
    // Others that have not reached step 3 are not counted there.
    const early = [1, 2, 3].map((i) => tv(i, { 1: 5, 2: i }));
    assert.deepEqual(decide(asha, tv(0, { 1: 9, 3: 9 }), early), { prune: false });
  });

  it('ignores failed trials and never prunes at maxResource', () => {
    const asha = createAshaPruner({ maxResource: 3 });
    const failed = [1, 2, 3].map((i) => tv(i, { 1: 0 }, 'Failed'));
    assert.deepEqual(decide(asha, tv(0, { 1: 9 }), failed), { prune: false });
    const good = [1, 2, 3].map((i) => tv(i, { 1: 9, 3: 0 }, 'Succeeded'));
    assert.deepEqual(decide(asha, tv(0, { 1: 9, 2: 9, 3: 9 }), good), { prune: false }, 'step 3 is no rung');
  });
});

describe('hyperband pruner', () => {
  it('derives brackets and a deterministic weighted schedule', () => {
    const base = { minResource: 1, reductionFactor: 3, startupTrials: 3, warmupSteps: 0, maxResource: 27 };
    const plan = hyperbandPlan(base);
    assert.equal(plan.sMax, 3);
    assert.deepEqual(
      plan.brackets.map((b) => b.minResource),
      [1, 3, 9, 27],
    );
    assert.equal(plan.schedule.length, 49);
    const counts = [0, 1, 2, 3].map((b) => plan.schedule.filter((x) => x === b).length);
    assert.deepEqual(counts, [27, 12, 6, 4]);
    assert.deepEqual(plan.schedule.slice(0, 8), hyperbandPlan(base).schedule.slice(0, 8));
    assert.deepEqual(new Set(plan.schedule.slice(0, 12)), new Set([0, 1, 2, 3]), 'early trials visit all');
    assert.equal(hyperbandPlan({ ...base, maxResource: 81 }).sMax, 4);
    assert.equal(hyperbandPlan({ ...base, maxResource: 26 }).sMax, 2);
    assert.equal(hyperbandPlan({ ...base, maxResource: 1 }).sMax, 0);
  });

  it('runs ASHA per bracket, comparing only trials of the same bracket', () => {
    const hb = createHyperbandPruner({ maxResource: 27 });
    const plan = hyperbandPlan({
      minResource: 1,
      reductionFactor: 3,
      startupTrials: 3,
      warmupSteps: 0,
      maxResource: 27,
    });
    const inBracket = (b: number) => [...Array(200).keys()].filter((i) => bracketOf(plan, i) === b);
    const [judged, a, b] = inBracket(0) as [number, number, number];
    const strangers = inBracket(1)
      .slice(0, 5)
      .map((i) => tv(i, { 1: 0, 3: 0 }, 'Succeeded'));
    // Bracket-1 trials are far better but do not count: only 1 peer in bracket 0 → n = 2 < 3.
    assert.deepEqual(decide(hb, tv(judged, { 1: 5 }), [...strangers, tv(a, { 1: 1 })]), { prune: false });
    const d = decide(hb, tv(judged, { 1: 5 }), [...strangers, tv(a, { 1: 1 }), tv(b, { 1: 2 })]);
    assert.match(reasonOf(d), /^hyperband bracket 0: at rung 0 \(step 1\) value 5 ranks 3 of 3/);
    // Bracket 1 starts at step 3: step 1 is no rung there.
    const [c1, ...rest1] = inBracket(1) as [number, ...number[]];
    const mates = rest1.slice(0, 3).map((i) => tv(i, { 1: 0, 3: 0 }, 'Succeeded'));
    assert.deepEqual(decide(hb, tv(c1, { 1: 9 }), mates), { prune: false });
    assert.match(reasonOf(decide(hb, tv(c1, { 1: 9, 3: 9 }), mates)), /bracket 1: at rung 0 \(step 3\)/);
    // The last bracket starts at maxResource and never prunes.
    const [c3, ...rest3] = inBracket(3) as [number, ...number[]];
    const full = rest3.slice(0, 5).map((i) => tv(i, { 27: 0 }, 'Succeeded'));
    assert.deepEqual(decide(hb, tv(c3, { 1: 9, 3: 9, 9: 9, 26: 9 }), full), { prune: false });
  });
});

describe('early-stopping settings', () => {
  function settingsError(name: string, settings: Record<string, unknown>): string {
    const factory = PRUNERS[name as keyof typeof PRUNERS]!;
    try {
      factory(settings);
    } catch (err) {
      assert.ok(err instanceof SettingsError, String(err));
      return err.message;
    }
    assert.fail(`${name} accepted ${JSON.stringify(settings)}`);
  }

  it('names the field and what is allowed', () => {
    assert.match(
      settingsError('hyperband', {}),
      /^earlyStopping\.settings\.maxResource: hyperband needs maxResource/,
    );
    assert.match(settingsError('asha', { reductionFactor: 1 }), /reductionFactor: must be >= 2, got 1/);
    assert.match(settingsError('asha', { reductionFactor: 2.5 }), /reductionFactor: expected a whole number/);
    assert.match(
      settingsError('asha', { minResource: 3, maxResource: 2 }),
      /maxResource: must be >= minResource \(3\), got 2/,
    );
    assert.match(
      settingsError('asha', { grace: 1 }),
      /settings\.grace: unknown setting; this algorithm takes:/,
    );
    assert.match(settingsError('median', { percentile: 10 }), /settings\.percentile: unknown setting/);
    assert.match(settingsError('percentile', { percentile: 120 }), /percentile: must be <= 100, got 120/);
    assert.match(settingsError('median', { startupTrials: -1 }), /startupTrials: must be >= 0/);
    assert.match(
      settingsError('asha', { countPrunedInBest: 'yes' }),
      /countPrunedInBest: expected true or false/,
    );
    assert.match(settingsError('asha', { maxResource: 'ten' }), /maxResource: expected a number, got "ten"/);
  });

  it('reports bad settings from the engine with the full path', () => {
    assert.throws(
      () => new StudyEngine(spec({ earlyStopping: { name: 'hyperband', settings: { maxResource: 0 } } })),
      /earlyStopping\.settings\.maxResource: must be >= /,
    );
  });

  it('countPrunedInBest works as a setting or an engine option', () => {
    const trials: TrialView[] = [
      { ...tv(0, { 1: 0.9 }, 'Succeeded'), value: 0.9 },
      tv(1, { 1: 0.5 }, 'Pruned'),
    ];
    const plain = new StudyEngine(spec({ earlyStopping: { name: 'asha', settings: {} } }));
    assert.equal(plain.best(trials)?.trial.index, 0);
    const viaSetting = new StudyEngine(
      spec({ earlyStopping: { name: 'asha', settings: { countPrunedInBest: true } } }),
    );
    assert.equal(viaSetting.best(trials)?.trial.index, 1);
    const viaFlag = new StudyEngine(spec({ earlyStopping: { name: 'asha', settings: {} } }), {
      countPrunedInBest: true,
    });
    assert.equal(viaFlag.best(trials)?.value, 0.5);
  });
});

describe('pruning through ask/report/tell', () => {
  it('asha prunes the worse of three trials at the first rung and keeps its history', async () => {
    const study = createStudy({
      parameters: [{ name: 'x', type: 'double', min: 0, max: 1 }],
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: { name: 'random' },
      earlyStopping: { name: 'asha', settings: { maxResource: 9 } },
      maxTrials: 3,
    });
    const [a, b, c] = await study.ask(3);
    assert.deepEqual(study.report(a!.id, 1, 0.3), { prune: false });
    assert.deepEqual(study.report(b!.id, 1, 0.1), { prune: false });
    const d = study.report(c!.id, 1, 0.2);
    assert.match(reasonOf(d), /rank(s)? 2 of 3/);
    study.tell(c!.id, { state: 'pruned' });
    const pruned = study.history().find((t) => t.index === c!.id)!;
    assert.equal(pruned.state, 'Pruned');
    assert.deepEqual(pruned.intermediate, [{ step: 1, value: 0.2 }]);
  });
});

describe('judgesBetween: the steps a pruner may decide at', () => {
  const settings: [string, Record<string, unknown>][] = [
    ['asha', { minResource: 2, reductionFactor: 2, startupTrials: 2 }],
    ['hyperband', { minResource: 1, maxResource: 9, reductionFactor: 3, startupTrials: 2 }],
    ['median', { startupTrials: 1, warmupSteps: 1 }],
    ['percentile', { percentile: 40, startupTrials: 1, warmupSteps: 2 }],
  ];
  let seed = 7;
  const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const curve = (steps: number[]) => steps.map((step) => ({ step, value: random() }));

  for (const [name, s] of settings) {
    it(`${name}: every step it prunes at is one it says it judges`, () => {
      const pruner = PRUNERS[name as keyof typeof PRUNERS](s);
      let prunes = 0;
      for (let round = 0; round < 200; round++) {
        const peers: TrialView[] = Array.from({ length: 4 }, (_, i) => ({
          index: i,
          params: {},
          state: 'Succeeded' as TrialState,
          intermediate: curve([1, 2, 3, 4, 5, 6, 7, 8, 9]),
        }));
        const steps = [1, 2, 3, 4, 5, 6, 7, 8, 9].filter(() => random() < 0.7);
        const own = curve(steps);
        const index = 4 + (round % 50);
        for (let k = 0; k < own.length; k++) {
          const trial: TrialView = { index, params: {}, state: 'Running', intermediate: own.slice(0, k + 1) };
          const decision = pruner.decide(trial, { goal: 'minimize', trials: [...peers, trial] });
          if (!decision.prune) continue;
          prunes++;
          const after = k === 0 ? -Infinity : (own[k - 1] as { step: number }).step;
          const upTo = (own[k] as { step: number }).step;
          assert.ok(pruner.judgesBetween?.(index, after, upTo), `${name} pruned at ${after}→${upTo}`);
          break;
        }
      }
      assert.ok(prunes > 10, `the curves exercise pruning (${prunes} prunes)`);
    });
  }

  it('asha judges only the reports that cross a rung', () => {
    const asha = createAshaPruner({ minResource: 2, reductionFactor: 2, warmupSteps: 2 });
    const judged = [1, 2, 3, 4, 5, 6, 7, 8, 9].filter((s) => asha.judgesBetween?.(0, s - 1, s));
    assert.deepEqual(judged, [4, 8], 'rung 2 is within warmupSteps');
    assert.equal(asha.judgesBetween?.(0, 4, 7), false);
    assert.equal(asha.judgesBetween?.(0, 5, 9), true);
  });
});
