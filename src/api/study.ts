import { z } from 'zod';
import { CONDITION_PARENT_RULE, conditionProblems } from './conditions.js';
import { freeForm, withRules, type CrossFieldRule, type TransitionRule } from './crd-meta.js';
import { MetricsSpec } from './metrics-spec.js';
import { ParameterSpec } from './parameter.js';
import { templatePlaceholderProblems } from './template-placeholders.js';
import { TrialTemplate } from './trial-template.js';
import { isJob, workloadType } from './workload-kinds.js';
import { DISTINCT_PRIOR_STUDIES, InitialTrials, MAX_PRIOR_STUDIES, PriorsStatus } from './warm-start.js';

export const API_GROUP = 'kubetune.io';
export const API_VERSION = 'v1alpha1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

export const ALGORITHMS = ['random', 'grid', 'sobol', 'tpe', 'bayesian', 'cmaes', 'nsga2'] as const;
export type AlgorithmName = (typeof ALGORITHMS)[number];
export const PRUNERS = ['median', 'percentile', 'asha', 'hyperband'] as const;
export type PrunerName = (typeof PRUNERS)[number];
export const GOALS = ['minimize', 'maximize'] as const;
export type Goal = (typeof GOALS)[number];

const MetricName = z.string().min(1).max(253);

export const Objective = z.strictObject({
  metric: MetricName,
  goal: z.enum(GOALS),
  /** The study stops as soon as a trial reaches this value. */
  target: z.number().optional(),
  additionalMetrics: z.array(MetricName).max(32).default([]),
});

/** One of several objectives: the study's result is then the Pareto front over all of them. */
export const ObjectiveGoal = z.strictObject({
  metric: MetricName,
  goal: z.enum(GOALS),
});
export type ObjectiveGoal = z.output<typeof ObjectiveGoal>;

/**
 * A bound on a metric read from the same lines as the objectives. A trial is feasible when
 * every bound holds; one that never reported a constrained metric is infeasible.
 */
export const Constraint = withRules(
  z.strictObject({
    metric: MetricName,
    /** Feasible when the metric's final value is at most this. */
    max: z.number().optional(),
    /** Feasible when the metric's final value is at least this. */
    min: z.number().optional(),
  }),
  [
    {
      cel: 'has(self.max) != has(self.min)',
      message: 'a constraint needs exactly one bound: max or min',
      path: 'max',
      holds: (c) => (c.max === undefined) !== (c.min === undefined),
    },
  ],
);
export type Constraint = z.output<typeof Constraint>;

/** Settings are algorithm-specific; each sampler validates its own and names the field it rejects. */
const Settings = freeForm(z.record(z.string(), z.unknown()));

export const Algorithm = z.strictObject({
  name: z.enum(ALGORITHMS).default('bayesian'),
  settings: Settings.default({}),
});

export const EarlyStopping = z.strictObject({
  name: z.enum(PRUNERS),
  settings: Settings.default({}),
});

/** Go-style duration without fractions, e.g. "2h30m", "45m", "90s": what `budget.wallClock` takes. */
const DURATION = /^([0-9]{1,6}h)?([0-9]{1,6}m)?([0-9]{1,6}s)?$/;

/** Seconds in a `budget.wallClock` duration such as "2h30m"; undefined when it is not one. */
export function durationSeconds(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m || text === '') return undefined;
  const part = (g: string | undefined) => Number(g?.slice(0, -1) ?? 0);
  return part(m[1]) * 3600 + part(m[2]) * 60 + part(m[3]);
}

/**
 * Stopping rules on what a study may spend. gpuHours: no trial starts once the GPU-hours used
 * plus one more trial's estimate (the mean of the finished trials) would pass it; running trials
 * finish. wallClock: counted from status.startTime; once reached, running trials are pruned.
 */
export const Budget = z.strictObject({
  gpuHours: z.number().positive().max(1e9).optional(),
  wallClock: z
    .string()
    .min(2)
    .max(21)
    .regex(DURATION, 'must be a duration in hours, minutes and seconds such as "2h30m", "45m" or "90s"')
    .refine((d) => (durationSeconds(d) ?? 0) > 0, 'must be longer than 0s, e.g. "30m"')
    .optional(),
});
export type Budget = z.output<typeof Budget>;

const studyConfigShape = {
  parameters: z.array(ParameterSpec).min(1, 'needs at least one parameter').max(64),
  /** The one-objective form; give either this or `objectives`. */
  objective: Objective.optional(),
  /** Two or more objectives; the study's result is the Pareto front of the feasible trials. */
  objectives: z
    .array(ObjectiveGoal)
    .min(2, 'needs at least two objectives (use objective for one)')
    .max(8)
    .optional(),
  /** Bounds on reported metrics; a trial that breaks one is never best nor on the Pareto front. */
  constraints: z.array(Constraint).max(16).optional(),
  algorithm: Algorithm.default({ name: 'bayesian', settings: {} }),
  earlyStopping: EarlyStopping.optional(),
  maxTrials: z.number().int().min(1).max(100000).default(20),
  parallelism: z.number().int().min(1).max(1000).default(1),
  /** The study fails once more trials than this have failed. */
  maxFailedTrials: z.number().int().min(0).default(3),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(0),
  metrics: MetricsSpec.default({
    source: 'logs',
    format: 'keyvalue',
    stepKeys: ['step', 'epoch'],
    strategy: 'last',
    maxIntermediateValues: 200,
    maxLineLength: 65_536,
  }),
  trialTimeoutSeconds: z.number().int().positive().optional(),
  /** A trial's pod that stays unscheduled this long fails (e.g. more GPUs requested than exist). */
  pendingTimeoutSeconds: z.number().int().positive().default(600),
  /** Pauses the study: running trials finish, no new ones start. */
  suspend: z.boolean().default(false),
  /** Limits on GPU-hours and wall-clock time; the study ends BudgetExhausted once one is spent. */
  budget: Budget.optional(),
  /** Configurations evaluated first, in order, as trials 0, 1, ...; they count toward maxTrials. */
  initialTrials: InitialTrials,
};

const uniqueParameterNames = {
  cel: 'self.parameters.all(p, self.parameters.exists_one(q, q.name == p.name))',
  message: 'parameter names must be unique',
  path: 'parameters',
  holds: (s: { parameters: { name: string }[] }) =>
    new Set(s.parameters.map((p) => p.name)).size === s.parameters.length,
};

const initialTrialsFit = {
  cel: 'size(self.initialTrials) <= self.maxTrials',
  message: 'initialTrials has more entries than maxTrials: each one is a trial of the study',
  path: 'initialTrials',
  holds: (s: { initialTrials: unknown[]; maxTrials: number }) => s.initialTrials.length <= s.maxTrials,
};

const oneObjectiveForm = {
  cel: 'has(self.objective) != has(self.objectives)',
  message: 'give exactly one of objective (one metric) or objectives (two or more metrics)',
  path: 'objective',
  holds: (s: { objective?: unknown; objectives?: unknown }) =>
    (s.objective === undefined) !== (s.objectives === undefined),
};

/** Conditions (parameters[].when) the CRD's CEL cannot check, reported at their fields. */
function refineConditions(s: { parameters: StudyConfigShape['parameters'] }, ctx: z.RefinementCtx): void {
  for (const problem of conditionProblems(s.parameters))
    ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
}
type StudyConfigShape = z.output<z.ZodObject<typeof studyConfigShape>>;

/** Everything a study needs except how to run a trial: the input of the ask/tell API. */
export const StudyConfig = withRules(z.strictObject(studyConfigShape), [
  uniqueParameterNames,
  CONDITION_PARENT_RULE,
  initialTrialsFit,
  oneObjectiveForm,
]).superRefine(refineConditions);
export type StudyConfig = z.output<typeof StudyConfig>;
export type StudyConfigInput = z.input<typeof StudyConfig>;

/** A Kubernetes object name (DNS subdomain) that is also a valid label value. */
const LabelValueName = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lowercase name of at most 63 characters');

const StudySpecFields = z.strictObject({
  ...studyConfigShape,
  trialTemplate: TrialTemplate,
  /**
   * The Kueue LocalQueue (in the study's namespace) that admits its trials: their Jobs are
   * created suspended and labelled kueue.x-k8s.io/queue-name. The same label in
   * trialTemplate.metadata.labels does the same.
   */
  queueName: LabelValueName.optional(),
  /** A Kueue WorkloadPriorityClass for the trials' Jobs (kueue.x-k8s.io/priority-class); needs a queue. */
  priorityClassName: LabelValueName.optional(),
  /** With the operator's --max-gpus: studies of a higher priority get free GPUs first. */
  priority: z.number().int().min(-1000).max(1000).default(0),
  /** With the operator's --max-gpus: this study's share of the GPUs, relative to the others' weights. */
  weight: z.number().positive().max(1000).default(1),
  /** Earlier Studies in this namespace whose finished trials seed the sampler (see warm-start.ts). */
  priorStudies: withRules(z.array(LabelValueName).max(MAX_PRIOR_STUDIES), [DISTINCT_PRIOR_STUDIES]).default(
    [],
  ),
});
type StudySpecFields = z.output<typeof StudySpecFields>;

/** The Kueue label that puts a Job in a LocalQueue. */
export const KUEUE_QUEUE_LABEL = 'kueue.x-k8s.io/queue-name';
/** The Kueue label that gives a Job's Workload a WorkloadPriorityClass. */
export const KUEUE_PRIORITY_LABEL = 'kueue.x-k8s.io/priority-class';

const TEMPLATE_QUEUE = `self.trialTemplate.metadata.labels['${KUEUE_QUEUE_LABEL}']`;
const HAS_TEMPLATE_QUEUE = `has(self.trialTemplate.metadata) && has(self.trialTemplate.metadata.labels) && '${KUEUE_QUEUE_LABEL}' in self.trialTemplate.metadata.labels`;

/** The LocalQueue the study's trials wait in: spec.queueName, else the template's queue label. */
export function studyQueue(spec: {
  queueName?: string | undefined;
  trialTemplate: { metadata?: { labels?: Record<string, string> | undefined } | undefined };
}): string | undefined {
  return spec.queueName ?? spec.trialTemplate.metadata?.labels?.[KUEUE_QUEUE_LABEL];
}

export const StudySpec = withRules(StudySpecFields, [
  uniqueParameterNames,
  CONDITION_PARENT_RULE,
  initialTrialsFit,
  oneObjectiveForm,
  {
    cel: `!has(self.queueName) || !(${HAS_TEMPLATE_QUEUE}) || ${TEMPLATE_QUEUE} == self.queueName`,
    message: `queueName and trialTemplate.metadata.labels['${KUEUE_QUEUE_LABEL}'] name different queues: give the queue once`,
    path: 'queueName',
    holds: (s) => {
      const label = s.trialTemplate.metadata?.labels?.[KUEUE_QUEUE_LABEL];
      return s.queueName === undefined || label === undefined || label === s.queueName;
    },
  },
  {
    cel: `!has(self.priorityClassName) || has(self.queueName) || (${HAS_TEMPLATE_QUEUE})`,
    message: `priorityClassName needs a Kueue queue: set queueName (or the trial template label ${KUEUE_QUEUE_LABEL})`,
    path: 'priorityClassName',
    holds: (s) => s.priorityClassName === undefined || studyQueue(s) !== undefined,
  },
  {
    cel: "!has(self.queueName) || !has(self.trialTemplate.kind) || (self.trialTemplate.kind == 'Job' && self.trialTemplate.apiVersion == 'batch/v1')",
    message: 'queueName (Kueue) works with batch/v1 Job trials only',
    path: 'queueName',
    holds: (s) => s.queueName === undefined || isJob(workloadType(s.trialTemplate)),
  },
]).superRefine((spec, ctx) => {
  refineConditions(spec, ctx);
  // Placeholders live in free-form fields the CRD cannot see into; the operator reports these on
  // the Study's status instead.
  for (const { path, message } of templatePlaceholderProblems(spec.trialTemplate, spec.parameters))
    ctx.addIssue({ code: 'custom', message, path: ['trialTemplate', ...path] });
});
export type StudySpec = z.output<typeof StudySpec>;
export type StudySpecInput = z.input<typeof StudySpec>;

export const ConditionStatus = z.enum(['True', 'False', 'Unknown']);
export const Condition = z.object({
  type: z.string().max(316),
  status: ConditionStatus,
  reason: z.string().max(1024),
  message: z.string().max(32768),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().optional(),
});
export type Condition = z.output<typeof Condition>;

export const STUDY_PHASES = ['Pending', 'Running', 'Suspended', 'Succeeded', 'Failed'] as const;
export type StudyPhase = (typeof STUDY_PHASES)[number];

export const TrialCounts = z.object({
  total: z.number().int(),
  pending: z.number().int(),
  /** Waiting for Kueue to admit them (or evicted and waiting to run again). */
  queued: z.number().int().optional(),
  running: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  pruned: z.number().int(),
  metricsUnavailable: z.number().int(),
});
export type TrialCounts = z.output<typeof TrialCounts>;

export const BestTrial = z.object({
  name: z.string(),
  index: z.number().int(),
  parameters: z.record(z.string(), z.string()),
  value: z.number(),
  metrics: z.record(z.string(), z.number()).optional(),
});
export type BestTrial = z.output<typeof BestTrial>;

/** A trial on the Pareto front, with its objective values in the order of spec.objectives. */
export const ParetoTrial = z.object({
  name: z.string(),
  index: z.number().int(),
  parameters: z.record(z.string(), z.string()),
  values: z.array(z.number()),
});
export type ParetoTrial = z.output<typeof ParetoTrial>;

/** The feasible non-dominated trials of a multi-objective study; at most PARETO_LISTED listed. */
export const ParetoFront = z.object({
  /** How many trials are on the front; `trials` lists the first ones by index. */
  size: z.number().int(),
  trials: z.array(ParetoTrial).max(20),
});
export type ParetoFront = z.output<typeof ParetoFront>;
export const PARETO_LISTED = 20;

export const StudyUsage = z.object({
  /** GPU request × running time, summed over the trials; running trials count up to now. */
  gpuHours: z.number(),
});
export type StudyUsage = z.output<typeof StudyUsage>;

export const StudyStatus = z.object({
  phase: z.enum(STUDY_PHASES).optional(),
  observedGeneration: z.number().int().optional(),
  conditions: z.array(Condition).optional(),
  trials: TrialCounts.optional(),
  bestTrial: BestTrial.optional(),
  paretoFront: ParetoFront.optional(),
  priors: PriorsStatus.optional(),
  usage: StudyUsage.optional(),
  startTime: z.string().optional(),
  completionTime: z.string().optional(),
});
export type StudyStatus = z.output<typeof StudyStatus>;

export const ObjectMeta = freeForm(
  z.looseObject({
    name: z.string().max(253).optional(),
    namespace: z.string().max(63).optional(),
  }),
);

/** Longest name Kubernetes derives names or label values from: a DNS label. */
export const MAX_DERIVED_NAME = 63;
/** The Job controller names a trial's pod `<job>-` plus 5 random characters. */
const POD_NAME_SUFFIX = '-xxxxx';

/**
 * Longest Study name whose every derived name fits in 63 characters: trial and Job
 * `<study>-<index>` (also the Job controller's `batch.kubernetes.io/job-name` label and our
 * kubetune.io/trial label) and the trial pods `<study>-<index>-xxxxx`.
 */
export function longestStudyName(maxTrials: number): number {
  return MAX_DERIVED_NAME - POD_NAME_SUFFIX.length - 1 - String(maxTrials - 1).length;
}

interface NamedStudy {
  metadata: { name?: string | undefined };
  spec: { maxTrials: number };
}

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/** Rules on metadata.name, checked by zod (`kubetune validate`) and by the CRD's root CEL. */
export const STUDY_NAME_RULES: CrossFieldRule<NamedStudy>[] = [
  {
    cel: `self.metadata.name.matches('${DNS_LABEL}')`,
    message:
      "metadata.name must be a DNS label (lowercase letters, digits and '-', starting and ending with a letter or digit): trial, Job and pod names are made from it",
    path: 'metadata.name',
    holds: (s) => s.metadata.name === undefined || new RegExp(DNS_LABEL).test(s.metadata.name),
  },
  {
    cel: `size(self.metadata.name) <= ${MAX_DERIVED_NAME - POD_NAME_SUFFIX.length - 1} - size(string(self.spec.maxTrials - 1))`,
    // Static: the apiserver's cost estimate puts string(int) in a messageExpression far over budget.
    message: `metadata.name is too long for spec.maxTrials: the last trial's pod <name>-<maxTrials-1>${POD_NAME_SUFFIX} must fit in ${MAX_DERIVED_NAME} characters, so the name may have at most ${MAX_DERIVED_NAME - POD_NAME_SUFFIX.length - 1} characters minus the digits of maxTrials-1 (${longestStudyName(100000)} for maxTrials 100000, ${longestStudyName(20)} for the default 20)`,
    explain: (s) =>
      `metadata.name is ${s.metadata.name?.length} characters; with spec.maxTrials ${s.spec.maxTrials} the last trial pod is named <name>-${s.spec.maxTrials - 1}${POD_NAME_SUFFIX}, which must fit in ${MAX_DERIVED_NAME} characters: use at most ${longestStudyName(s.spec.maxTrials)} characters`,
    path: 'metadata.name',
    holds: (s) =>
      s.metadata.name === undefined || s.metadata.name.length <= longestStudyName(s.spec.maxTrials),
  },
];

const HAD_TRIALS = 'has(oldSelf.status) && has(oldSelf.status.trials) && oldSelf.status.trials.total > 0';

/** What may not change once a Study has trials (CRD transition rules at the root, which sees status). */
export const STUDY_TRANSITION_RULES: TransitionRule[] = [
  {
    cel: `!(${HAD_TRIALS}) || self.spec.parameters == oldSelf.spec.parameters`,
    message:
      'spec.parameters cannot change once the Study has trials: their values were drawn from the old search space and would no longer fit it; create a new Study instead',
  },
  ...(['objective', 'objectives', 'constraints'] as const).map((field) => ({
    cel: `!(${HAD_TRIALS}) || (has(self.spec.${field}) == has(oldSelf.spec.${field}) && (!has(self.spec.${field}) || self.spec.${field} == oldSelf.spec.${field}))`,
    message: `spec.${field} cannot change once the Study has trials: their results were ranked by the old ${field}; create a new Study instead`,
  })),
];

export const StudyManifest = withRules(
  z.object({
    apiVersion: z.literal(API_GROUP_VERSION),
    kind: z.literal('Study'),
    metadata: ObjectMeta,
    spec: StudySpec,
    status: StudyStatus.optional(),
  }),
  STUDY_NAME_RULES,
);
export type StudyManifest = z.output<typeof StudyManifest>;
