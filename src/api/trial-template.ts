import { z } from 'zod';
import { freeForm } from './crd-meta.js';

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

const JobSpec = freeForm(
  z.looseObject({
    template: PodTemplate,
  }),
);

/**
 * A batch/v1 Job template. Only the fields kubetune reads are typed; the rest passes through to
 * the Job untouched, so anything a Job supports (GPU requests, volumes, tolerations) works.
 */
export const TrialTemplate = z.strictObject({
  /** Container whose logs carry the metrics and whose command the local runner executes. */
  primaryContainerName: z.string().max(63).optional(),
  metadata: z
    .strictObject({
      labels: z.record(z.string(), z.string()).optional(),
      annotations: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  spec: JobSpec,
});
export type TrialTemplate = z.output<typeof TrialTemplate>;
export type TemplateContainer = z.output<typeof Container>;
