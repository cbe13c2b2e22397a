/**
 * The kinds of object a trial can be: what kubetune knows about each built-in kind (where its
 * pod templates are, which fields are integers, how it reports its end, which pod is the
 * leader), and the generic rules for any other kind. Pure: shared by `kubetune validate`, the
 * local runner and the operator.
 */

type Obj = Record<string, unknown>;

export const asObj = (v: unknown): Obj | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
export const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export interface WorkloadType {
  apiVersion: string;
  kind: string;
}

export const JOB: WorkloadType = { apiVersion: 'batch/v1', kind: 'Job' };
export const JOBSET: WorkloadType = { apiVersion: 'jobset.x-k8s.io/v1alpha2', kind: 'JobSet' };
export const TRAINJOB: WorkloadType = { apiVersion: 'trainer.kubeflow.org/v1alpha1', kind: 'TrainJob' };

/** Labels the JobSet controller puts on every pod it creates (and TrainJob's JobSet, too). */
export const JOBSET_NAME_LABEL = 'jobset.sigs.k8s.io/jobset-name';
export const REPLICATED_JOB_LABEL = 'jobset.sigs.k8s.io/replicatedjob-name';
export const JOB_INDEX_LABEL = 'jobset.sigs.k8s.io/job-index';
/** The Job controller's label on the pods of an Indexed Job. */
export const COMPLETION_INDEX_LABEL = 'batch.kubernetes.io/job-completion-index';

/** A pod template found in a workload spec, with its path from the workload (e.g. `spec.template`). */
export interface PodTemplateAt {
  path: (string | number)[];
  /** The object holding `metadata` and `spec` (a PodTemplateSpec), or a partial pod spec. */
  template: Obj;
  /**
   * False for a partial pod spec (TrainJob podSpecOverrides): fields it leaves unset come from
   * elsewhere (the TrainingRuntime), so an unset field says nothing about the pod.
   */
  complete: boolean;
}

/** How a built-in workload reports its end: the status condition types that mean each. */
interface EndConditions {
  succeeded: string[];
  failed: string[];
}

export interface BuiltinKind extends WorkloadType {
  /** Plural resource name, for API paths and RBAC. */
  resource: string;
  podTemplates(spec: Obj): PodTemplateAt[];
  /** Paths (relative to spec, `*` for any list item) of integer fields. */
  integerFields: string[][];
  end: EndConditions;
  /** Labels of the default metrics pod, given the workload spec and the trial's name. */
  leader(spec: Obj, trial: string): Record<string, string>;
  /** The primary container's name when the template gives none and no pod template has one. */
  defaultContainer?: string;
}

const jobPodTemplate = (spec: Obj, path: (string | number)[]): PodTemplateAt[] => {
  const template = asObj(spec['template']);
  return template ? [{ path: [...path, 'template'], template, complete: true }] : [];
};

const BUILTINS: BuiltinKind[] = [
  {
    ...JOB,
    resource: 'jobs',
    podTemplates: (spec) => jobPodTemplate(spec, ['spec']),
    integerFields: [
      ['parallelism'],
      ['completions'],
      ['backoffLimit'],
      ['activeDeadlineSeconds'],
      ['ttlSecondsAfterFinished'],
    ],
    end: { succeeded: ['Complete', 'SuccessCriteriaMet'], failed: ['Failed', 'FailureTarget'] },
    leader: () => ({}),
  },
  {
    ...JOBSET,
    resource: 'jobsets',
    podTemplates: (spec) =>
      asList(spec['replicatedJobs']).flatMap((r, i) => {
        const jobSpec = asObj(asObj(asObj(r)?.['template'])?.['spec']);
        return jobSpec ? jobPodTemplate(jobSpec, ['spec', 'replicatedJobs', i, 'template', 'spec']) : [];
      }),
    integerFields: [
      ['replicatedJobs', '*', 'replicas'],
      ['replicatedJobs', '*', 'template', 'spec', 'parallelism'],
      ['replicatedJobs', '*', 'template', 'spec', 'completions'],
      ['replicatedJobs', '*', 'template', 'spec', 'backoffLimit'],
      ['failurePolicy', 'maxRestarts'],
    ],
    end: { succeeded: ['Completed'], failed: ['Failed'] },
    leader: (spec, trial) => {
      const first = asObj(asList(spec['replicatedJobs'])[0])?.['name'];
      return {
        [JOBSET_NAME_LABEL]: trial,
        ...(typeof first === 'string' ? { [REPLICATED_JOB_LABEL]: first } : {}),
        [JOB_INDEX_LABEL]: '0',
        [COMPLETION_INDEX_LABEL]: '0',
      };
    },
  },
  {
    ...TRAINJOB,
    resource: 'trainjobs',
    podTemplates: (spec) =>
      asList(spec['podSpecOverrides']).flatMap((o, i) => {
        const template = asObj(o);
        return template ? [{ path: ['spec', 'podSpecOverrides', i], template, complete: false }] : [];
      }),
    integerFields: [['trainer', 'numNodes']],
    end: { succeeded: ['Complete'], failed: ['Failed'] },
    // A TrainJob runs as a JobSet of the same name; the training nodes are its "node" job.
    leader: (_spec, trial) => ({
      [JOBSET_NAME_LABEL]: trial,
      [REPLICATED_JOB_LABEL]: 'node',
      [JOB_INDEX_LABEL]: '0',
      [COMPLETION_INDEX_LABEL]: '0',
    }),
    defaultContainer: 'node',
  },
];

export function workloadType(template: {
  apiVersion?: string | undefined;
  kind?: string | undefined;
}): WorkloadType {
  return { apiVersion: template.apiVersion ?? JOB.apiVersion, kind: template.kind ?? JOB.kind };
}

export const sameType = (a: WorkloadType, b: WorkloadType) =>
  a.apiVersion === b.apiVersion && a.kind === b.kind;

export const typeName = (t: WorkloadType) => `${t.apiVersion} ${t.kind}`;

export function builtinKind(t: WorkloadType): BuiltinKind | undefined {
  return BUILTINS.find((b) => sameType(b, t));
}

export const BUILTIN_KINDS: readonly BuiltinKind[] = BUILTINS;

export const isJob = (t: WorkloadType) => sameType(t, JOB);

/** The group of an apiVersion: '' for the core group. */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

export function apiVersionOnly(apiVersion: string): string {
  return apiVersion.slice(apiVersion.indexOf('/') + 1);
}

/** Objects deeper than this are not searched for pod templates (the search is a recursion). */
const MAX_SEARCH_DEPTH = 32;

/**
 * Pod templates of a kind kubetune does not know, found by their shape: every object whose
 * `containers` is a list is a pod spec, and the object above it (whose `spec` it is) a pod
 * template. Pod specs nested under another kind of key cannot be told apart from any other
 * object, so they are not found; docs/trial-workloads.md says so.
 */
function searchPodTemplates(value: unknown, path: (string | number)[], out: PodTemplateAt[], depth: number) {
  if (depth > MAX_SEARCH_DEPTH) return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => searchPodTemplates(v, [...path, i], out, depth + 1));
    return;
  }
  const o = asObj(value);
  if (!o) return;
  const podSpec = asObj(o['spec']);
  if (podSpec && Array.isArray(podSpec['containers'])) {
    out.push({ path, template: o, complete: true });
    return;
  }
  if (Array.isArray(o['containers'])) {
    out.push({ path, template: { spec: o }, complete: true });
    return;
  }
  for (const [k, v] of Object.entries(o)) searchPodTemplates(v, [...path, k], out, depth + 1);
}

/** Every pod template in a workload's spec: by the kind's layout when built in, else by shape. */
export function podTemplates(type: WorkloadType, spec: unknown): PodTemplateAt[] {
  const o = asObj(spec) ?? {};
  const builtin = builtinKind(type);
  if (builtin) return builtin.podTemplates(o);
  const out: PodTemplateAt[] = [];
  searchPodTemplates(o, ['spec'], out, 0);
  return out;
}

/** The pod spec of a found template (a partial one for TrainJob overrides). */
export function podSpecOf(t: PodTemplateAt): Obj {
  return t.complete ? (asObj(t.template['spec']) ?? {}) : t.template;
}

/**
 * Fields Kubernetes types as strings in every kind: a container's command and args, env values,
 * labels and annotations. A placeholder there stays text even when it is the whole field.
 */
export function isStringField(path: readonly (string | number)[]): boolean {
  const n = path.length;
  const parent = path[n - 2];
  if (typeof path[n - 1] === 'number') return parent === 'command' || parent === 'args';
  if (parent === 'labels' || parent === 'annotations') return true;
  return path[n - 1] === 'value' && typeof parent === 'number' && path[n - 3] === 'env';
}

/** Whether `path` (relative to the workload spec) is one of the kind's integer fields. */
export function isIntegerField(type: WorkloadType, path: readonly (string | number)[]): boolean {
  const fields = builtinKind(type)?.integerFields ?? [];
  return fields.some(
    (f) =>
      f.length === path.length &&
      f.every((k, i) => (k === '*' ? typeof path[i] === 'number' : k === path[i])),
  );
}

/** A kind the operator is configured to run trials as, with its resource (plural) name. */
export interface TrialKind extends WorkloadType {
  resource: string;
}

export const DEFAULT_TRIAL_KINDS: TrialKind[] = [{ ...JOB, resource: 'jobs' }];

/** Why a Study of `type` cannot run; the chart's admission policy refuses it in the same words. */
export function unconfiguredKindMessage(type: WorkloadType, configured: readonly TrialKind[]): string {
  const kinds = configured.map(typeName).join(', ');
  return `spec.trialTemplate: ${typeName(type)} is not one of the kinds this operator runs trials as (${kinds}); an administrator adds it with the Helm value trialKinds (--trial-kinds)`;
}

/**
 * `apiVersion/Kind[=resource]`, as --trial-kinds takes it: `batch/v1/Job`,
 * `jobset.x-k8s.io/v1alpha2/JobSet`, `example.com/v1/Widget=widgets`. Without a resource, a
 * built-in kind's, else the lowercase kind plus "s".
 */
export function parseTrialKind(text: string): TrialKind {
  const [typePart, resource] = text.split('=') as [string, string | undefined];
  const slash = typePart.lastIndexOf('/');
  const apiVersion = typePart.slice(0, slash);
  const kind = typePart.slice(slash + 1);
  if (slash <= 0 || !/^[A-Z][A-Za-z0-9]*$/.test(kind) || !/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion))
    throw new Error(`"${text}" is not apiVersion/Kind[=resource], e.g. jobset.x-k8s.io/v1alpha2/JobSet`);
  if (resource !== undefined && !/^[a-z][a-z0-9-]*$/.test(resource))
    throw new Error(`"${text}": the resource must be a lowercase plural name, e.g. widgets`);
  const type = { apiVersion, kind };
  return { ...type, resource: resource ?? builtinKind(type)?.resource ?? `${kind.toLowerCase()}s` };
}
