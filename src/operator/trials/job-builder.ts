import type { V1Job, V1OwnerReference } from '@kubernetes/client-node';
import { KUEUE_PRIORITY_LABEL, KUEUE_QUEUE_LABEL, studyQueue } from '../../api/study.js';
import { primaryContainer, renderJobSpec } from '../../engine/trial-template.js';
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

/**
 * The trial's Job: the study's template with parameters substituted, labelled so Jobs and Pods
 * can be listed per study, owned by the Trial so deleting a Study cascades down to its pods.
 */
export function buildTrialJob(study: ParsedStudy, trial: TrialObject): V1Job {
  const template = study.spec.trialTemplate;
  const spec = renderJobSpec(template, {
    study: study.metadata.name,
    name: trial.metadata.name,
    index: trial.spec.index,
    params: trial.spec.parameters,
  });
  const labels = trialLabels(study.metadata.name, trial.metadata.name, trial.spec.index);
  const podMeta = (spec.template.metadata ?? {}) as {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  const primary = primaryContainer(template, spec).name;
  const containers = spec.template.spec.containers.map((c) =>
    c.name === primary
      ? {
          ...c,
          env: [
            ...(c.env ?? []),
            { name: 'KUBETUNE_STUDY', value: study.metadata.name },
            { name: 'KUBETUNE_TRIAL', value: trial.metadata.name },
            { name: 'KUBETUNE_TRIAL_INDEX', value: String(trial.spec.index) },
          ],
        }
      : c,
  );
  const podSpec = spec.template.spec as Record<string, unknown>;
  const kueue = kueueFields(study);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: trial.metadata.name,
      namespace: trial.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}), ...kueue.labels, ...labels },
      annotations: template.metadata?.annotations ?? {},
      ownerReferences: [ownerReference(trial)],
    },
    spec: {
      // A trial is one attempt unless the template asks for retries.
      backoffLimit: 0,
      ...(spec as Record<string, unknown>),
      ...(kueue.suspend ? { suspend: true } : {}),
      template: {
        ...spec.template,
        metadata: { ...podMeta, labels: { ...(podMeta.labels ?? {}), ...labels } },
        spec: { restartPolicy: 'Never', ...podSpec, containers },
      },
    } as V1Job['spec'],
  };
}
