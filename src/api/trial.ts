import { z } from 'zod';
import { withTransitionRules } from './crd-meta.js';
import { API_GROUP_VERSION, ObjectMeta } from './study.js';

export const TRIAL_STATES = [
  'Pending',
  // Waiting for Kueue to admit its Job (the study names a LocalQueue), or evicted by Kueue and
  // waiting to run again: active, holding one of the study's parallelism slots, never timed out.
  'Queued',
  'Running',
  'Succeeded',
  'Failed',
  'Pruned',
  'MetricsUnavailable',
  // Stopped because the study was interrupted (the local runner's Ctrl-C): over, but not a
  // failure, and it keeps its index and parameters so a resumed study can run it again.
  'Interrupted',
] as const;
export type TrialState = (typeof TRIAL_STATES)[number];
export const TERMINAL_TRIAL_STATES: ReadonlySet<TrialState> = new Set([
  'Succeeded',
  'Failed',
  'Pruned',
  'MetricsUnavailable',
  'Interrupted',
]);

export const IntermediateValue = z.object({
  step: z.number(),
  value: z.number(),
});
export type IntermediateValue = z.output<typeof IntermediateValue>;

export const TrialSpec = z.object({
  study: z.string().max(253),
  /** Position in the study; names are `<study>-<index>` so a restarted operator cannot duplicate. */
  index: z.number().int().min(0),
  /** Canonical string form of each value, as substituted into the template. */
  parameters: z.record(z.string(), z.string()),
});
export type TrialSpec = z.output<typeof TrialSpec>;

const terminalStates = [...TERMINAL_TRIAL_STATES].map((s) => `'${s}'`).join(', ');

export const TrialStatus = withTransitionRules(
  z.object({
    state: z.enum(TRIAL_STATES),
    reason: z.string().max(1024).optional(),
    message: z.string().max(32768).optional(),
    startTime: z.string().optional(),
    completionTime: z.string().optional(),
    /** Final value of the objective metric, chosen by the study's strategy. */
    objective: z.number().optional(),
    /** Final values of the objective and the additional metrics. */
    metrics: z.record(z.string(), z.number()).optional(),
    /** Objective metric per step, thinned to the study's maxIntermediateValues. */
    intermediate: z.array(IntermediateValue).optional(),
    prunedAtStep: z.number().optional(),
    /** Runs of this trial so far: 1, plus one per Kueue preemption that sent it back to Queued. */
    attempts: z.number().int().min(1).optional(),
    jobName: z.string().optional(),
    podName: z.string().optional(),
  }),
  [
    {
      cel: `!(oldSelf.state in [${terminalStates}]) || (self.state == oldSelf.state && has(self.objective) == has(oldSelf.objective) && (!has(self.objective) || self.objective == oldSelf.objective))`,
      message: `a finished Trial (${[...TERMINAL_TRIAL_STATES].join(', ')}) keeps its state and objective: the study has already counted its result`,
    },
  ],
);
export type TrialStatus = z.output<typeof TrialStatus>;

export const TrialManifest = z.object({
  apiVersion: z.literal(API_GROUP_VERSION),
  kind: z.literal('Trial'),
  metadata: ObjectMeta,
  spec: TrialSpec,
  status: TrialStatus.optional(),
});
export type TrialManifest = z.output<typeof TrialManifest>;
