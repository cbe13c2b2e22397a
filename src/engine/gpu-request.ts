import type { TrialTemplate } from '../api/trial-template.js';
import {
  asList,
  asObj,
  JOBSET,
  podSpecOf,
  podTemplates,
  sameType,
  workloadType,
  type WorkloadType,
} from '../api/workload-kinds.js';

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

/** The GPU resources a trial's containers ask for (`nvidia.com/gpu`, `amd.com/gpu`, …), sorted. */
export function gpuResources(template: TrialTemplate): string[] {
  const names = new Set<string>();
  for (const t of podTemplates(workloadType(template), template.spec)) {
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

/** How many pods a JobSet runs from one replicated job (replicas × parallelism), when fixed in the template. */
function podsOf(type: WorkloadType, path: (string | number)[], spec: unknown): number {
  if (!sameType(type, JOBSET)) return 1;
  const replicated = asObj(asList(asObj(spec)?.['replicatedJobs'])[path[2] as number]);
  const count = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : 1);
  return (
    count(replicated?.['replicas']) * count(asObj(asObj(replicated?.['template'])?.['spec'])?.['parallelism'])
  );
}

/**
 * GPUs one trial holds: its pod's for a Job; for other kinds, the sum over the pod templates
 * of the workload (a JobSet's times each replicated job's pods). Counts that are placeholders
 * count as 1 here.
 */
export function gpuRequest(template: TrialTemplate): number {
  const type = workloadType(template);
  return podTemplates(type, template.spec)
    .filter((t) => t.complete)
    .reduce((sum, t) => sum + podGpus(podSpecOf(t)) * podsOf(type, t.path, template.spec), 0);
}
