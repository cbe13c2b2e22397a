import { z } from 'zod';
import { conditionProblem, MAX_CEL_LENGTH } from './cel-condition.js';
import { freeForm } from './crd-meta.js';
import { builtinKind, isJob, podTemplates, typeName, workloadType } from './workload-kinds.js';

const EnvVar = freeForm(
  z.looseObject({
    name: z.string().min(1).max(253),
    value: z.string().optional(),
  }),
);

const Container = freeForm(
  z.looseObject({
    name: z.string().min(1).max(63),
    image: z.string().max(1024).optional(),
    command: z.array(z.string()).optional(),
    args: z.array(z.string()).optional(),
    env: z.array(EnvVar).optional(),
    workingDir: z.string().optional(),
  }),
);

const PodSpec = freeForm(
  z.looseObject({
    containers: z.array(Container).min(1, 'needs at least one container').max(16),
  }),
);

const PodTemplate = freeForm(
  z.looseObject({
    metadata: freeForm(z.looseObject({})).optional(),
    spec: PodSpec,
  }),
);

/** What a batch/v1 Job template must have; checked when the template is a Job. */
const JobSpec = z.looseObject({ template: PodTemplate });

/**
 * The workload's spec. Only a Job's pod template is typed (for the CRD's own rules); the rest
 * passes through untouched, so anything the kind supports (GPU requests, volumes, tolerations)
 * works.
 */
const WorkloadSpec = freeForm(z.looseObject({ template: PodTemplate.optional() }));

const CelCondition = z
  .string()
  .min(1)
  .max(MAX_CEL_LENGTH)
  .superRefine((source, ctx) => {
    const problem = conditionProblem(source);
    if (problem) ctx.addIssue({ code: 'custom', message: `invalid CEL: ${problem}` });
  });

const TrialTemplateFields = z.strictObject({
  /** With kind: what a trial is. Default batch/v1 Job. */
  apiVersion: z.string().min(1).max(253).optional(),
  kind: z.string().min(1).max(63).optional(),
  /** CEL over the workload (`self`): true once the trial succeeded. Required for kinds that are not built in. */
  successCondition: CelCondition.optional(),
  /** CEL over the workload (`self`): true once the trial failed. Required for kinds that are not built in. */
  failureCondition: CelCondition.optional(),
  /** Container whose logs carry the metrics and whose command the local runner executes. */
  primaryContainerName: z.string().max(63).optional(),
  metadata: z
    .strictObject({
      labels: z.record(z.string(), z.string()).optional(),
      annotations: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  spec: WorkloadSpec,
});
type TrialTemplateFields = z.output<typeof TrialTemplateFields>;

function checkKind(t: TrialTemplateFields, ctx: z.RefinementCtx): void {
  if ((t.apiVersion === undefined) !== (t.kind === undefined)) {
    ctx.addIssue({
      code: 'custom',
      message:
        'apiVersion and kind go together: give both (e.g. jobset.x-k8s.io/v1alpha2 and JobSet) or neither (batch/v1 Job)',
      path: [t.kind === undefined ? 'kind' : 'apiVersion'],
    });
    return;
  }
  const type = workloadType(t);
  if (isJob(type)) {
    const job = JobSpec.safeParse(t.spec);
    for (const issue of job.success ? [] : job.error.issues)
      ctx.addIssue({ code: 'custom', message: issue.message, path: ['spec', ...issue.path.map(String)] });
  }
  if (isJob(type)) {
    for (const field of ['successCondition', 'failureCondition'] as const)
      if (t[field] !== undefined)
        ctx.addIssue({
          code: 'custom',
          message: `batch/v1 Job trials end by the Job's own Complete and Failed conditions; ${field} is for other kinds`,
          path: [field],
        });
    return;
  }
  if (builtinKind(type)) return;
  for (const field of ['successCondition', 'failureCondition'] as const) {
    if (t[field] === undefined)
      ctx.addIssue({
        code: 'custom',
        message: `${typeName(type)} is not a built-in kind (batch/v1 Job, jobset.x-k8s.io/v1alpha2 JobSet, trainer.kubeflow.org/v1alpha1 TrainJob): it needs ${field}, a CEL expression over the object (self)`,
        path: [field],
      });
  }
}

/** primaryContainerName names a container of one of the pod templates (when there are any). */
function checkPrimary(t: TrialTemplateFields, ctx: z.RefinementCtx): void {
  const wanted = t.primaryContainerName;
  const templates = podTemplates(workloadType(t), t.spec);
  const names = templates.flatMap((p) =>
    ((p.template['spec'] as { containers?: { name?: unknown }[] } | undefined)?.containers ?? []).map(
      (c) => c.name,
    ),
  );
  if (wanted !== undefined && templates.length > 0 && !names.includes(wanted))
    ctx.addIssue({
      code: 'custom',
      message: 'primaryContainerName must name one of the template containers',
      path: ['primaryContainerName'],
    });
  if (wanted === undefined && names.length === 0 && !builtinKind(workloadType(t))?.defaultContainer)
    ctx.addIssue({
      code: 'custom',
      message:
        'no pod template with containers was found in spec, so primaryContainerName must name the container whose logs carry the metrics',
      path: ['primaryContainerName'],
    });
}

/**
 * A trial's workload: a batch/v1 Job by default, or any kind named by apiVersion and kind
 * (docs/trial-workloads.md).
 */
export const TrialTemplate = TrialTemplateFields.superRefine((t, ctx) => {
  checkKind(t, ctx);
  checkPrimary(t, ctx);
});
export type TrialTemplate = z.output<typeof TrialTemplate>;
export type TemplateContainer = z.output<typeof Container>;
