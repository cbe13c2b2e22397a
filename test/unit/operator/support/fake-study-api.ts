// The few API paths one study reconcile uses, served from in-memory objects, so a unit test
// can drive StudyReconciler into an error path (a 503 on the final log read, a 409 on a terminal
// write, a 422 on a Job) by overriding one route. Only error paths are tested this way.
import type { CoreV1Event, V1Job, V1Pod } from '@kubernetes/client-node';
import type { StudyObject, TrialObject } from '../../../../src/operator/kube/resources.js';
import { specInput } from '../../../support/specs.js';
import { sendJson, sendStatus, type FakeApi } from './fake-api.js';

export interface StudyWorld {
  study: StudyObject;
  trials: TrialObject[];
  jobs: V1Job[];
  pods: V1Pod[];
  /** Pod name → log text (lines with RFC3339 timestamps, as the apiserver sends them). */
  logs: Record<string, string>;
  events: CoreV1Event[];
  /** Kueue Workloads of the namespace (served under kueue.x-k8s.io/v1beta2). */
  workloads: unknown[];
}

const CUSTOM = '/apis/kubetune.io/v1alpha1/namespaces/([^/]+)';
let rv = 100;

/** JSON merge patch (RFC 7386). */
function merge(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = merge(out[k], v);
  }
  return out;
}

/** The JSON patch (RFC 6902) subset the operator sends: test and add on object members. */
function jsonPatch(target: Record<string, unknown>, ops: { op: string; path: string; value?: unknown }[]) {
  const out = structuredClone(target);
  for (const { op, path, value } of ops) {
    const keys = path.split('/').slice(1);
    const last = keys.pop() as string;
    let at = out as Record<string, unknown>;
    for (const k of keys) at = (at[k] ??= {}) as Record<string, unknown>;
    if (op === 'test' && JSON.stringify(at[last]) !== JSON.stringify(value)) return undefined;
    if (op === 'add' || op === 'replace') at[last] = value;
  }
  return out;
}

export function emptyWorld(study: StudyObject): StudyWorld {
  return { study, trials: [], jobs: [], pods: [], logs: {}, events: [], workloads: [] };
}

export function serveStudy(api: FakeApi, world: StudyWorld): void {
  const bump = (meta: { resourceVersion?: string }) => (meta.resourceVersion = String(++rv));
  api.route('GET', new RegExp(`^${CUSTOM}/studies/([^/]+)$`), (_req, res) => sendJson(res, 200, world.study));
  api.route('PATCH', new RegExp(`^${CUSTOM}/studies/([^/]+)/status$`), (req, res) => {
    world.study = merge(world.study, req.body) as StudyObject;
    bump(world.study.metadata);
    sendJson(res, 200, world.study);
  });
  api.route('GET', new RegExp(`^${CUSTOM}/trials$`), (_req, res) =>
    sendJson(res, 200, { items: world.trials }),
  );
  api.route('GET', new RegExp(`^${CUSTOM}/trials/([^/]+)$`), (req, res) => {
    const name = req.path.split('/').at(-1);
    const trial = world.trials.find((t) => t.metadata.name === name);
    if (!trial) return sendStatus(res, 404, 'NotFound', `trials.kubetune.io "${name}" not found`);
    sendJson(res, 200, trial);
  });
  api.route('POST', new RegExp(`^${CUSTOM}/trials$`), (req, res) => {
    const trial = structuredClone(req.body) as TrialObject;
    if (world.trials.some((t) => t.metadata.name === trial.metadata.name))
      return sendStatus(
        res,
        409,
        'AlreadyExists',
        `trials.kubetune.io "${trial.metadata.name}" already exists`,
      );
    trial.metadata.uid = `uid-${trial.metadata.name}`;
    bump(trial.metadata);
    world.trials.push(trial);
    sendJson(res, 201, trial);
  });
  api.route('PATCH', new RegExp(`^${CUSTOM}/trials/([^/]+)/status$`), (req, res) => {
    const name = req.path.split('/')[7];
    const i = world.trials.findIndex((t) => t.metadata.name === name);
    if (i < 0) return sendStatus(res, 404, 'NotFound', `trials.kubetune.io "${name}" not found`);
    const current = world.trials[i] as TrialObject;
    let next: TrialObject | undefined;
    if (Array.isArray(req.body)) {
      next = jsonPatch(current as unknown as Record<string, unknown>, req.body) as TrialObject | undefined;
      if (!next)
        return sendStatus(
          res,
          422,
          'Invalid',
          'the server rejected our request due to an error in our request',
        );
    } else {
      const wanted = (req.body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
      if (wanted !== undefined && wanted !== current.metadata.resourceVersion)
        return sendStatus(
          res,
          409,
          'Conflict',
          `Operation cannot be fulfilled on trials.kubetune.io "${name}": the object has been modified`,
        );
      next = merge(current, req.body) as TrialObject;
    }
    bump(next.metadata);
    world.trials[i] = next;
    sendJson(res, 200, next);
  });
  api.route('GET', /^\/apis\/batch\/v1\/namespaces\/[^/]+\/jobs$/, (_req, res) =>
    sendJson(res, 200, { items: world.jobs }),
  );
  api.route('POST', /^\/apis\/batch\/v1\/namespaces\/[^/]+\/jobs$/, (req, res) => {
    const job = structuredClone(req.body) as V1Job;
    if (world.jobs.some((j) => j.metadata?.name === job.metadata?.name))
      return sendStatus(res, 409, 'AlreadyExists', `jobs.batch "${job.metadata?.name}" already exists`);
    job.metadata = { ...job.metadata, uid: `uid-job-${job.metadata?.name}`, creationTimestamp: new Date() };
    bump(job.metadata);
    world.jobs.push(job);
    sendJson(res, 201, job);
  });
  api.route('GET', /^\/apis\/batch\/v1\/namespaces\/[^/]+\/jobs\/[^/]+$/, (req, res) => {
    const name = req.path.split('/').at(-1);
    const job = world.jobs.find((j) => j.metadata?.name === name);
    if (!job) return sendStatus(res, 404, 'NotFound', `jobs.batch "${name}" not found`);
    sendJson(res, 200, job);
  });
  api.route('DELETE', /^\/apis\/batch\/v1\/namespaces\/[^/]+\/jobs\/[^/]+$/, (req, res) => {
    const name = req.path.split('/').at(-1);
    world.jobs = world.jobs.filter((j) => j.metadata?.name !== name);
    sendJson(res, 200, { kind: 'Status', status: 'Success' });
  });
  api.route('GET', /^\/apis\/kueue\.x-k8s\.io\/v1beta2\/namespaces\/[^/]+\/workloads$/, (_req, res) =>
    sendJson(res, 200, { items: world.workloads }),
  );
  api.route('GET', /^\/api\/v1\/namespaces\/[^/]+\/pods$/, (_req, res) =>
    sendJson(res, 200, { items: world.pods }),
  );
  api.route('GET', /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+\/log$/, (req, res) => {
    const log = world.logs[req.path.split('/')[6] as string];
    if (log === undefined) return sendStatus(res, 404, 'NotFound', 'pods not found');
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(log);
  });
  api.route('POST', /^\/api\/v1\/namespaces\/[^/]+\/events$/, (req, res) => {
    world.events.push(req.body as CoreV1Event);
    sendJson(res, 201, req.body);
  });
}

/** A Job of the trial, with one pod in the given phase (owned by the Job, as the Job controller does). */
export function jobWithPod(
  world: StudyWorld,
  trial: string,
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed',
  jobConditions: { type: string; status: string }[] = [],
): V1Pod {
  const ns = world.study.metadata.namespace;
  const uid = `uid-job-${trial}`;
  world.jobs.push({
    metadata: {
      name: trial,
      namespace: ns,
      uid,
      creationTimestamp: new Date(),
      labels: { 'kubetune.io/study': world.study.metadata.name },
    },
    status: { conditions: jobConditions },
  });
  const pod: V1Pod = {
    metadata: {
      name: `${trial}-pod`,
      namespace: ns,
      creationTimestamp: new Date(),
      labels: { 'kubetune.io/study': world.study.metadata.name },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: trial, uid }],
    },
    status: { phase, startTime: new Date() },
  };
  world.pods.push(pod);
  return pod;
}

export const PARAMS = { learning_rate: '0.01', batch_size: '64', dropout: '0.1', optimizer: 'adam' };

/** Study `ns/demo` with the shared test spec and these spec fields over it. */
export function studyObject(spec: Record<string, unknown> = {}): StudyObject {
  return {
    apiVersion: 'kubetune.io/v1alpha1',
    kind: 'Study',
    metadata: { name: 'demo', namespace: 'ns', uid: 'study-uid', generation: 1, resourceVersion: '1' },
    spec: specInput({ maxTrials: 2, parallelism: 1, ...spec }),
  };
}

/** Trial `demo-<index>` of the study above, with PARAMS. */
export function trialObject(index: number, status?: TrialObject['status']): TrialObject {
  return {
    apiVersion: 'kubetune.io/v1alpha1',
    kind: 'Trial',
    metadata: {
      name: `demo-${index}`,
      namespace: 'ns',
      uid: `uid-demo-${index}`,
      resourceVersion: '1',
      labels: { 'kubetune.io/study': 'demo' },
    },
    spec: { study: 'demo', index, parameters: PARAMS },
    ...(status ? { status } : {}),
  };
}
