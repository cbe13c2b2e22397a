import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import type { StudySpec, StudyStatus } from '../../api/study.js';
import { API_GROUP, API_VERSION } from '../../api/study.js';
import type { TrialSpec, TrialStatus } from '../../api/trial.js';

export const GROUP = API_GROUP;
export const VERSION = API_VERSION;
export const STUDY_PLURAL = 'studies';
export const TRIAL_PLURAL = 'trials';

export const LABEL_STUDY = 'kubetune.io/study';
export const LABEL_TRIAL = 'kubetune.io/trial';
export const LABEL_TRIAL_INDEX = 'kubetune.io/trial-index';

interface Meta extends V1ObjectMeta {
  name: string;
  namespace: string;
}

/** A Study as read from the API; the spec is unvalidated until the reconciler parses it. */
export interface StudyObject extends KubernetesObject {
  metadata: Meta;
  spec: unknown;
  status?: StudyStatus;
}

export interface TrialObject extends KubernetesObject {
  metadata: Meta;
  spec: TrialSpec;
  status?: TrialStatus;
}

export type ParsedStudy = StudyObject & { spec: StudySpec };

export const objectKey = (o: { metadata?: V1ObjectMeta }) =>
  `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
