import type { Assignment } from '../api/parameter.js';
import type { IntermediateValue, TrialState } from '../api/trial.js';
import type { TrialView } from '../engine/trial-view.js';

/** A trial of a local study, as it is recorded in the results. */
export interface LocalTrial extends TrialView {
  readonly name: string;
  readonly index: number;
  readonly params: Assignment;
  readonly formattedParams: Record<string, string>;
  state: TrialState;
  value?: number;
  metrics: Record<string, number>;
  intermediate: IntermediateValue[];
  startTime: string;
  completionTime?: string;
  reason?: string;
  message?: string;
  prunedAtStep?: number;
  /** The GPUs the trial was shown (CUDA_VISIBLE_DEVICES or ROCm's equivalent); [] for none. */
  devices?: string[];
  logFile: string;
}
