import type { Assignment } from '../../api/parameter.js';
import type { StudyConfig } from '../../api/study.js';
import type { PruneDecision } from '../../engine/pruner.js';
import { StudyEngine, type PriorTrial } from '../../engine/study-engine.js';
import type { TrialView } from '../../engine/trial-view.js';
import { type PackedTrials, unpackTrials } from './packed-trials.js';

/** The engine calls that may run long, as plain data a worker thread can receive. */
export type AdvisorTask =
  | {
      kind: 'suggest';
      spec: StudyConfig;
      trials: PackedTrials;
      indices: readonly number[];
      priors: readonly PriorTrial[];
    }
  | { kind: 'prune'; spec: StudyConfig; trial: TrialView; trials: PackedTrials };

/**
 * Runs a task with an engine rebuilt from the spec. Samplers and pruners are pure functions of
 * (spec, history), so the answer is the one the caller's own engine would give inline.
 */
export async function runAdvisorTask(task: AdvisorTask): Promise<Assignment[] | PruneDecision> {
  const engine = new StudyEngine(task.spec, task.kind === 'suggest' ? { priors: task.priors } : {});
  const trials = unpackTrials(task.trials);
  return task.kind === 'suggest' ? engine.suggest(trials, task.indices) : engine.prune(task.trial, trials);
}
