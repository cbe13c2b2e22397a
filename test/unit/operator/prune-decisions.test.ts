// The operator and `kubetune run` must make the same pruning decisions from the same curves.
// The local runner judges every line as it arrives; the operator sees each trial's values in
// batches (one status write per flush). This runs real trials with the local runner, then
// feeds the very curves they printed to the operator's decision path in random batches.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { StudySpec } from '../../../src/api/study.js';
import type { IntermediateValue } from '../../../src/api/trial.js';
import type { PruneDecision } from '../../../src/engine/pruner.js';
import { StudyEngine } from '../../../src/engine/study-engine.js';
import type { TrialView } from '../../../src/engine/trial-view.js';
import { LocalRunner } from '../../../src/local/local-runner.js';
import type { LocalTrial } from '../../../src/local/local-trial.js';
import { MetricCollector } from '../../../src/metrics/collector.js';
import { PruneJudge } from '../../../src/operator/study/prune-judge.js';
import { REPO_ROOT } from '../../support/run-cli.js';

const FAKE = join(REPO_ROOT, 'test/fixtures/fake-trainer.mjs');

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function studySpec(earlyStopping: Record<string, unknown>): StudySpec {
  return StudySpec.parse({
    objective: { metric: 'loss', goal: 'minimize' },
    algorithm: { name: 'random' },
    parameters: [
      { name: 'x', type: 'double', min: 0, max: 1 },
      { name: 'y', type: 'double', min: 0, max: 1 },
    ],
    earlyStopping,
    maxTrials: 8,
    // One at a time, so each trial is judged against finished trials only and the local run is
    // the same whatever the timing.
    parallelism: 1,
    seed: 11,
    trialTemplate: {
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'train',
                command: ['node', FAKE],
                args: ['--x=${params.x}', '--y=${params.y}', '--epochs=9'],
              },
            ],
          },
        },
      },
    },
  });
}

/** The curve a trial printed, read back from its log as any collector would. */
function printedCurve(spec: StudySpec, trial: LocalTrial): IntermediateValue[] {
  const collector = new MetricCollector(spec);
  for (const line of readFileSync(trial.logFile, 'utf8').split('\n')) collector.feedLine(line);
  return collector.intermediate();
}

/** The operator's decision for one trial: its curve arrives in batches of 1 to 4 steps. */
async function operatorDecision(
  engine: StudyEngine,
  trial: LocalTrial,
  curve: IntermediateValue[],
  earlier: readonly TrialView[],
  random: () => number,
): Promise<{ decision: PruneDecision; batches: number[] }> {
  const judge = new PruneJudge();
  const decide = async (t: TrialView, peers: readonly TrialView[]) => engine.prune(t, peers);
  const running = (intermediate: IntermediateValue[]): TrialView => ({
    index: trial.index,
    params: trial.params,
    state: 'Running',
    intermediate,
  });
  // The reconcile that records the trial as Running judges it before any value has arrived.
  await judge.judge(decide, trial.name, 'pod', running([]), [...earlier, running([])]);
  const batches: number[] = [];
  for (let end = 0; end < curve.length;) {
    const size = Math.min(1 + Math.floor(random() * 4), curve.length - end);
    end += size;
    batches.push(size);
    const view = running(curve.slice(0, end));
    const decision = await judge.judge(decide, trial.name, 'pod', view, [...earlier, view]);
    if (decision.prune) return { decision, batches };
  }
  return { decision: { prune: false }, batches };
}

describe('pruning decisions: operator and local runner', () => {
  for (const [name, earlyStopping] of [
    ['asha', { name: 'asha', settings: { minResource: 1, maxResource: 9, reductionFactor: 3 } }],
    ['median', { name: 'median', settings: { startupTrials: 2, warmupSteps: 1 } }],
  ] as const) {
    it(`${name}: the operator's batched decisions equal the local runner's per-line ones`, async () => {
      const spec = studySpec(earlyStopping);
      const dir = mkdtempSync(join(tmpdir(), `kt-prune-${name}-`));
      const local = await new LocalRunner({ name: 'eq', spec, cwd: dir, outputDir: dir }).run();
      const engine = new StudyEngine(spec);
      const trials = [...local.trials].sort((a, b) => a.index - b.index);
      let multiStepBatches = 0;
      // Several batchings of every curve: whichever way the steps arrive, the decision is the same.
      for (const seed of [1, 2, 3, 4, 5]) {
        const random = lcg(seed);
        for (const [i, trial] of trials.entries()) {
          const curve = printedCurve(spec, trial);
          const { decision, batches } = await operatorDecision(
            engine,
            trial,
            curve,
            trials.slice(0, i),
            random,
          );
          multiStepBatches += batches.filter((b) => b > 1).length;
          const where = `${trial.name} (batches ${batches.join(',')})`;
          if (trial.state === 'Pruned') {
            assert.ok(
              decision.prune,
              `${where}: the local runner pruned it (${trial.message}), the operator did not`,
            );
            assert.equal(decision.reason, trial.message, where);
          } else {
            assert.equal(trial.state, 'Succeeded', `${trial.name}: ${trial.reason} ${trial.message}`);
            assert.equal(
              decision.prune,
              false,
              `${where}: the operator pruned it (${decision.prune && decision.reason})`,
            );
          }
        }
      }
      assert.ok(
        trials.some((t) => t.state === 'Pruned'),
        'no trial was pruned: the scenario tests nothing',
      );
      assert.ok(multiStepBatches > 0, 'every batch held one step: the scenario tests nothing');
    });
  }
});
