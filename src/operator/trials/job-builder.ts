import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { KUEUE_PRIORITY_LABEL, KUEUE_QUEUE_LABEL, studyQueue } from '../../api/study.js';
import { primaryContainer, renderWorkload } from '../../engine/trial-template.js';
import {
  asList,
  asObj,
  isJob,
  podSpecOf,
  podTemplates,
  sameType,
  TRAINJOB,
  workloadType,
} from '../../api/workload-kinds.js';
import {
  LABEL_STUDY,
  LABEL_TRIAL,
  LABEL_TRIAL_INDEX,
  type ParsedStudy,
  type TrialObject,
} from '../kube/resources.js';

export function ownerReference(owner: {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; uid?: string };
}): V1OwnerReference {
  return {
    apiVersion: owner.apiVersion as string,
    kind: owner.kind as string,
    name: owner.metadata.name,
    uid: owner.metadata.uid as string,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function trialLabels(study: string, trial: string, index: number): Record<string, string> {
  return { [LABEL_STUDY]: study, [LABEL_TRIAL]: trial, [LABEL_TRIAL_INDEX]: String(index) };
}

/**
 * The Kueue labels and suspension of a study that names a queue: Kueue admits a Job by
 * unsuspending it, so it must be created suspended or it would start outside the queue's quota.
 */
function kueueFields(study: ParsedStudy): { labels: Record<string, string>; suspend?: true } {
  const queue = studyQueue(study.spec);
  if (queue === undefined) return { labels: {} };
  const priority = study.spec.priorityClassName;
  return {
    labels: { [KUEUE_QUEUE_LABEL]: queue, ...(priority ? { [KUEUE_PRIORITY_LABEL]: priority } : {}) },
    suspend: true,
  };
}

/** A trial's workload as the operator handles it: a Job, a JobSet, or any other kind. */
export interface TrialWorkload {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec?: unknown;
  status?: unknown;
}

type Obj = Record<string, unknown>;

/** The trial's identity in every pod of the workload, and in the primary container's env. */
function stampPodTemplates(study: ParsedStudy, trial: TrialObject, spec: unknown): void {
  const template = study.spec.trialTemplate;
  const type = workloadType(template);
  const labels = trialLabels(study.metadata.name, trial.metadata.name, trial.spec.index);
  const primary = primaryContainer(template, spec).name;
  const env = [
    { name: 'KUBETUNE_STUDY', value: study.metadata.name },
    { name: 'KUBETUNE_TRIAL', value: trial.metadata.name },
    { name: 'KUBETUNE_TRIAL_INDEX', value: String(trial.spec.index) },
  ];
  for (const pod of podTemplates(type, spec).filter((p) => p.complete)) {
    const meta = (asObj(pod.template['metadata']) ?? {}) as { labels?: Record<string, string> };
    pod.template['metadata'] = { ...meta, labels: { ...(meta.labels ?? {}), ...labels } };
    const podSpec = podSpecOf(pod);
    // A trial is one attempt unless the template asks for retries.
    if (isJob(type)) pod.template['spec'] = { restartPolicy: 'Never', ...podSpec };
    const target = asObj(pod.template['spec']) as Obj;
    target['containers'] = asList(target['containers']).map((c) => {
      const container = asObj(c) as { name?: string; env?: unknown[] };
      return container.name === primary ? { ...container, env: [...(container.env ?? []), ...env] } : c;
    });
  }
}

/**
 * The trial's workload: the study's template with placeholders substituted, labelled so that
 * workloads and pods can be listed per study, owned by the Trial so that deleting a Study
 * cascades down to its pods. Named like the Trial, so creating it twice collides.
 */
export function buildTrialWorkload(study: ParsedStudy, trial: TrialObject): TrialWorkload {
  const template = study.spec.trialTemplate;
  const type = workloadType(template);
  const rendered = renderWorkload(template, {
    study: study.metadata.name,
    name: trial.metadata.name,
    index: trial.spec.index,
    params: trial.spec.parameters,
    types: Object.fromEntries(study.spec.parameters.map((p) => [p.name, p.type])),
  });
  const spec = rendered.spec as Obj;
  stampPodTemplates(study, trial, spec);
  const labels = trialLabels(study.metadata.name, trial.metadata.name, trial.spec.index);
  const kueue = isJob(type) ? kueueFields(study) : { labels: {} };
  // A TrainJob's pods come from its runtime; its spec.labels reach the JobSet and Jobs it makes.
  if (sameType(type, TRAINJOB)) spec['labels'] = { ...((asObj(spec['labels']) ?? {}) as Obj), ...labels };
  return {
    apiVersion: type.apiVersion,
    kind: type.kind,
    metadata: {
      name: trial.metadata.name,
      namespace: trial.metadata.namespace,
      labels: { ...(rendered.metadata?.labels ?? {}), ...kueue.labels, ...labels },
      annotations: rendered.metadata?.annotations ?? {},
      ownerReferences: [ownerReference(trial)],
    },
    spec: isJob(type) ? { backoffLimit: 0, ...spec, ...(kueue.suspend ? { suspend: true } : {}) } : spec,
  };
}
