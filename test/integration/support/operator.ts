// Starts the real operator as a child process against the test cluster, the way a user runs
// `kubetune operator`, so tests can kill it with SIGKILL and start it again.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { StudyObject, TrialObject } from '../../../src/operator/kube/resources.js';
import { after, before } from 'node:test';
import { clients, kubeconfigPath, kubectl, repoRoot, waitFor, type Clients } from './cluster.js';

export const GROUP = 'kubetune.io';
export const VERSION = 'v1alpha1';

export interface OperatorProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function startOperator(args: string[], env: NodeJS.ProcessEnv = {}): OperatorProcess {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'src/main.ts'),
      '--kubeconfig',
      kubeconfigPath,
      '--metrics-port',
      '0',
      '--metrics-host',
      '127.0.0.1',
      ...args,
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

let crdsApplied = false;

/** Applies the generated CRDs with kubectl (client-node drops x-kubernetes-* fields, see field notes). */
export async function applyCrds(): Promise<void> {
  if (crdsApplied) return;
  const res = await kubectl([
    'apply',
    '--server-side',
    '--force-conflicts',
    '-f',
    join(repoRoot, 'deploy/crds'),
  ]);
  if (res.code !== 0) throw new Error(`kubectl apply deploy/crds failed: ${res.stderr}`);
  const wait = await kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=30s',
    'crd/studies.kubetune.io',
    'crd/trials.kubetune.io',
  ]);
  if (wait.code !== 0) throw new Error(`CRDs not established: ${wait.stderr}`);
  crdsApplied = true;
}

export function customApi(kc: KubeConfig): CustomObjectsApi {
  return kc.makeApiClient(CustomObjectsApi);
}

export async function createStudy(
  api: CustomObjectsApi,
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
): Promise<StudyObject> {
  return (await api.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'studies',
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Study', metadata: { name, namespace }, spec },
  })) as StudyObject;
}

export async function getStudy(api: CustomObjectsApi, namespace: string, name: string): Promise<StudyObject> {
  return (await api.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'studies',
    name,
  })) as StudyObject;
}

export async function listTrials(
  api: CustomObjectsApi,
  namespace: string,
  study: string,
): Promise<TrialObject[]> {
  const list = (await api.listNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'trials',
    labelSelector: `kubetune.io/study=${study}`,
  })) as { items: TrialObject[] };
  return list.items.sort((a, b) => a.spec.index - b.spec.index);
}

/** Waits until the study reaches a terminal phase and returns it. */
export async function waitForStudyEnd(
  api: CustomObjectsApi,
  namespace: string,
  name: string,
  timeoutMs: number,
  operator?: OperatorProcess,
): Promise<StudyObject> {
  try {
    return await waitFor(
      async () => {
        const s = await getStudy(api, namespace, name);
        return s.status?.phase === 'Succeeded' || s.status?.phase === 'Failed' ? s : undefined;
      },
      timeoutMs,
      `study ${namespace}/${name} to finish`,
      250,
    );
  } catch (err) {
    const tail = operator
      ? `\noperator output (tail):\n${operator.output().split('\n').slice(-40).join('\n')}`
      : '';
    throw new Error(`${(err as Error).message}${tail}`);
  }
}

export const FAKE_TRAINER = join(repoRoot, 'test/fixtures/fake-trainer.mjs');

/** A trial template running the fake trainer as a process on the test node. */
export function fakeTrainerTemplate(
  args: string[],
  extra: { resources?: Record<string, unknown> } = {},
): Record<string, unknown> {
  return {
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 2,
          containers: [{ name: 'train', image: 'node:20', command: ['node', FAKE_TRAINER], args, ...extra }],
        },
      },
    },
  };
}

export interface OperatorSuite {
  /** Set in the suite's before hook. */
  c: Clients;
  api: CustomObjectsApi;
  /** Starts an operator that is killed when the suite ends. */
  start(args: string[]): OperatorProcess;
}

/** Call inside a describe: cluster clients, the CRDs applied, and operators cleaned up after. */
export function operatorSuite(): OperatorSuite {
  const operators: OperatorProcess[] = [];
  const suite = {
    start(args: string[]) {
      const op = startOperator(args);
      operators.push(op);
      return op;
    },
  } as OperatorSuite;
  before(async () => {
    suite.c = clients();
    suite.api = customApi(suite.c.kc);
    await applyCrds();
  });
  after(async () => {
    for (const op of operators) await op.kill();
  });
  return suite;
}

/** A chaos test's kill schedule: random, or KUBETUNE_CHAOS_SEED's to replay a failure. */
export function chaosSeed(): number {
  const given = process.env['KUBETUNE_CHAOS_SEED'];
  if (given === undefined || given === '') return randomInt(2 ** 31);
  if (!/^\d+$/.test(given) || Number(given) >= 2 ** 31)
    throw new Error(`KUBETUNE_CHAOS_SEED must be an integer in [0, 2^31), got ${JSON.stringify(given)}`);
  return Number(given);
}
