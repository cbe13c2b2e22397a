import type { ParameterSpec } from '../api/parameter.js';
import type { TrialTemplate } from '../api/trial-template.js';
import {
  asList,
  asObj,
  isJob,
  JOBSET,
  podSpecOf,
  podTemplates,
  sameType,
  TRAINJOB,
  workloadType,
  type WorkloadType,
} from '../api/workload-kinds.js';
import { renderWorkload } from './trial-template.js';

/** Device-plugin GPU resources: `nvidia.com/gpu`, `amd.com/gpu`, … and NVIDIA MIG slices. */
function isGpuResource(name: string): boolean {
  return name.endsWith('/gpu') || name.startsWith('nvidia.com/mig-');
}

const SUFFIX: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * The count a Kubernetes quantity stands for. Extended resources such as GPUs must be whole
 * numbers (the apiserver refuses "500m" for them), so a quantity that is not one counts as 0
 * here and the Job is left for the apiserver to reject with its own message.
 */
function quantityCount(q: unknown): number {
  if (typeof q === 'number') return Number.isInteger(q) && q > 0 ? q : 0;
  if (typeof q !== 'string') return 0;
  const m = /^\+?(\d+)(k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(q.trim());
  if (!m) return 0;
  return Number(m[1]) * SUFFIX[m[2] ?? '']!;
}

interface ResourceContainer {
  resources?: { limits?: Record<string, unknown>; requests?: Record<string, unknown> };
  restartPolicy?: string;
}

/** GPUs one container asks for: a limit sets the request for extended resources, so it wins. */
function containerGpus(c: ResourceContainer): number {
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  let total = 0;
  for (const name of new Set([...Object.keys(limits), ...Object.keys(requests)])) {
    if (isGpuResource(name)) total += quantityCount(limits[name] ?? requests[name]);
  }
  return total;
}

/**
 * The GPU resources a trial's containers ask for (`nvidia.com/gpu`, `amd.com/gpu`, …), sorted,
 * from the template's spec or a rendered one (a quantity that is a placeholder counts 0).
 */
export function gpuResources(template: TrialTemplate, spec: unknown = template.spec): string[] {
  const names = new Set<string>();
  for (const t of podTemplates(workloadType(template), spec)) {
    const pod = podSpecOf(t) as { containers?: ResourceContainer[]; initContainers?: ResourceContainer[] };
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
      for (const [name, q] of Object.entries({ ...c.resources?.requests, ...c.resources?.limits }))
        if (isGpuResource(name) && quantityCount(q) > 0) names.add(name);
    }
  }
  return [...names].sort();
}

/**
 * GPUs one pod holds, computed as the scheduler computes a pod's effective request: the larger
 * of the app containers' sum and the peak of the init containers, which run one at a time.
 * Sidecars (init containers with restartPolicy Always) keep running, so they add to both.
 */
function podGpus(pod: { containers?: ResourceContainer[]; initContainers?: ResourceContainer[] }): number {
  let sidecars = 0;
  let initPeak = 0;
  for (const init of pod.initContainers ?? []) {
    const gpus = containerGpus(init);
    if (init.restartPolicy === 'Always') sidecars += gpus;
    else initPeak = Math.max(initPeak, sidecars + gpus);
  }
  const apps = (pod.containers ?? []).reduce((sum, c) => sum + containerGpus(c), 0);
  return Math.max(initPeak, apps + sidecars);
}

const whole = (v: unknown, unset: number) =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : unset;

/** Pods a Job spec runs at once: `parallelism` (default 1), no more than its `completions`. */
function jobPods(jobSpec: unknown): number {
  const o = asObj(jobSpec);
  return Math.min(whole(o?.['parallelism'], 1), whole(o?.['completions'], Infinity));
}

/**
 * How many pods run at once from the pod template at `path`: a Job's parallelism; a JobSet's
 * replicas times its job's parallelism; one for a kind kubetune does not know.
 */
function podsOf(type: WorkloadType, path: (string | number)[], spec: unknown): number {
  if (isJob(type)) return jobPods(spec);
  if (!sameType(type, JOBSET)) return 1;
  const replicated = asObj(asList(asObj(spec)?.['replicatedJobs'])[path[2] as number]);
  return whole(replicated?.['replicas'], 1) * jobPods(asObj(replicated?.['template'])?.['spec']);
}

/**
 * A TrainJob's GPUs: `trainer.resourcesPerNode` on each of `trainer.numNodes` nodes. What it
 * leaves unset comes from its runtime, which kubetune does not read: no resources count 0, no
 * numNodes one node.
 */
function trainJobGpus(spec: unknown): number {
  const trainer = asObj(asObj(spec)?.['trainer']);
  const resources = asObj(trainer?.['resourcesPerNode']) as ResourceContainer['resources'];
  return whole(trainer?.['numNodes'], 1) * containerGpus({ ...(resources ? { resources } : {}) });
}

/**
 * GPUs one trial holds, from its workload spec (the template's, or one trial's rendered spec):
 * the sum over the pod templates of the pods each runs at once times the GPUs of one such pod,
 * and for a TrainJob its nodes' GPUs. A pod count that is still a placeholder counts as 1 and a
 * GPU quantity as 0: render the trial's template first (trialGpuRequest), or bound the count over
 * the search space (maxGpuRequest).
 */
export function gpuRequest(template: TrialTemplate, spec: unknown = template.spec): number {
  const type = workloadType(template);
  const pods = podTemplates(type, spec)
    .filter((t) => t.complete)
    .reduce((sum, t) => sum + podGpus(podSpecOf(t)) * podsOf(type, t.path, spec), 0);
  return sameType(type, TRAINJOB) ? pods + trainJobGpus(spec) : pods;
}

/** What GPU counting reads of a Study spec. */
export interface GpuStudySpec {
  trialTemplate: TrialTemplate;
  parameters: readonly ParameterSpec[];
  maxTrials: number;
}

const typesOf = (spec: GpuStudySpec) => Object.fromEntries(spec.parameters.map((p) => [p.name, p.type]));

/** A parameter's largest value as the template would receive it (the largest number, for a categorical). */
function largest(p: ParameterSpec): string {
  if (p.type === 'int') return String(p.max);
  // Only whole numbers count as GPUs or pods, so a double's largest countable value is its floor.
  if (p.type === 'double') return String(Math.floor(p.max ?? 0));
  const values = p.values ?? [];
  const numbers = values.map(Number).filter((n) => Number.isFinite(n));
  return numbers.length > 0 ? String(Math.max(...numbers)) : (values[0] ?? '');
}

/**
 * The most GPUs any one trial of the study can hold: the template rendered with every parameter
 * at its largest value and the last trial's index. Every count is a product and sum of whole
 * numbers of the template, so none grows when a parameter takes a smaller value.
 */
export function maxGpuRequest(spec: GpuStudySpec): number {
  return gpuRequest(spec.trialTemplate, renderedAtLargest(spec));
}

/** The GPU resources any trial of the study may ask for, GPU quantities that are parameters included. */
export function studyGpuResources(spec: GpuStudySpec): string[] {
  return gpuResources(spec.trialTemplate, renderedAtLargest(spec));
}

function renderedAtLargest(spec: GpuStudySpec): unknown {
  const params = Object.fromEntries(spec.parameters.map((p) => [p.name, largest(p)]));
  return renderWorkload(spec.trialTemplate, {
    study: 'study',
    name: 'trial',
    index: Math.max(0, spec.maxTrials - 1),
    params,
    types: typesOf(spec),
  }).spec;
}

/** GPUs one trial holds: its own rendered template counted, with its parameters' values. */
export function trialGpuRequest(
  spec: GpuStudySpec,
  trial: { study: string; name: string; index: number; params: Record<string, string> },
): number {
  const { spec: rendered } = renderWorkload(spec.trialTemplate, { ...trial, types: typesOf(spec) });
  return gpuRequest(spec.trialTemplate, rendered);
}

/** trialGpuRequest for each trial of one study; renders nothing for a study whose trials hold no GPU. */
export function trialGpuCounter(
  study: string,
  spec: GpuStudySpec,
): (trial: { name: string; index: number; params: Record<string, string> }) => number {
  if (maxGpuRequest(spec) === 0) return () => 0;
  return (trial) => trialGpuRequest(spec, { study, ...trial });
}
