// Hostile Studies next to a normal one on the real control plane: the hostile ones end with a
// clear reason (or are refused at validation), the normal one completes, and the operator keeps
// its lease throughout. Only outcomes are asserted; the latencies are in npm run bench:isolation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { StudySpec } from '../../src/api/study.js';
import { seedFinishedTrials } from '../support/prior-trials.js';
import { createTestNamespace, waitFor } from './support/cluster.js';
import {
  createStudy,
  fakeTrainerTemplate,
  getStudy,
  listTrials,
  operatorSuite,
  waitForStudyEnd,
  type OperatorProcess,
} from './support/operator.js';

const twoDims = [
  { name: 'x', type: 'double', min: 0, max: 1 },
  { name: 'y', type: 'double', min: 0, max: 1 },
];

const normalStudy = {
  objective: { metric: 'loss', goal: 'minimize' },
  algorithm: { name: 'bayesian' },
  parameters: twoDims,
  maxTrials: 3,
  parallelism: 2,
  trialTemplate: fakeTrainerTemplate(['--x', '${params.x}', '--y', '${params.y}', '--epochs', '2']),
};

// Three 1 MiB lines, then a 60,000-character line that V8 would match against (a+)+ for longer
// than the universe has existed; only then the process exits.
const LONG_LINES = [
  "const long = 'a'.repeat(1 << 20);",
  'for (let i = 0; i < 3; i++) console.log(long);',
  "console.log('a'.repeat(60000) + '!');",
].join('\n');

interface LeaseView {
  holder: string;
  transitions: number;
}

async function leaderElectedOperator(
  suite: ReturnType<typeof operatorSuite>,
  ns: string,
  extraArgs: string[] = [],
): Promise<{ op: OperatorProcess; lease: () => Promise<LeaseView>; first: LeaseView }> {
  const coordination = suite.c.kc.makeApiClient(CoordinationV1Api);
  const op = suite.start([
    '--namespaces',
    ns,
    '--leader-elect',
    '--lease-namespace',
    ns,
    '--lease-name',
    'kubetune',
    ...extraArgs,
  ]);
  const lease = async (): Promise<LeaseView> => {
    const l = await coordination.readNamespacedLease({ namespace: ns, name: 'kubetune' });
    return { holder: l.spec?.holderIdentity ?? '', transitions: l.spec?.leaseTransitions ?? 0 };
  };
  const first = await waitFor(
    async () => {
      const l = await lease().catch(() => undefined);
      return l?.holder ? l : undefined;
    },
    30_000,
    'the operator to take its lease',
    200,
  );
  return { op, lease, first };
}

describe('operator isolation from hostile studies', () => {
  const suite = operatorSuite();

  it('runs a normal study to completion next to 1 MiB log lines, a catastrophic regex, an over-large one and a foreign Prometheus URL', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-hostile');
    const { op, lease, first } = await leaderElectedOperator(suite, ns, [
      '--prometheus-url-allowlist',
      'http://prometheus.monitoring:9090',
    ]);
    await createStudy(suite.api, ns, 'elsewhere', {
      ...normalStudy,
      metrics: {
        source: 'prometheus',
        prometheus: { mode: 'query', url: 'http://169.254.169.254/latest/meta-data' },
      },
    });
    await createStudy(suite.api, ns, 'floods', {
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: { name: 'sobol' },
      parameters: twoDims,
      // One trial: with two, the first failure ends the study and prunes the other.
      maxTrials: 1,
      maxFailedTrials: 0,
      metrics: { format: 'regex', regex: String.raw`(?<name>(a+)+)=(?<value>\d+)` },
      trialTemplate: {
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'train', image: 'node:20', command: ['node', '-e', LONG_LINES] }],
            },
          },
        },
      },
    });
    await createStudy(suite.api, ns, 'costly', {
      ...normalStudy,
      metrics: { format: 'regex', regex: String.raw`(?<name>\w{1,60})=(?<value>\d{1,60})` },
    });
    await createStudy(suite.api, ns, 'normal', normalStudy);

    const normal = await waitForStudyEnd(suite.api, ns, 'normal', 180_000, op);
    assert.equal(normal.status?.phase, 'Succeeded', JSON.stringify(normal.status?.conditions));
    assert.equal(normal.status?.trials?.succeeded, 3);

    const floods = await waitForStudyEnd(suite.api, ns, 'floods', 180_000, op);
    assert.equal(floods.status?.phase, 'Failed');
    const failed = floods.status?.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.reason, 'MaxFailedTrialsExceeded', JSON.stringify(floods.status?.conditions));
    const trials = await listTrials(suite.api, ns, 'floods');
    assert.deepEqual(
      trials.map((tr) => [tr.status?.state, tr.status?.message]),
      [
        [
          'MetricsUnavailable',
          'the trial never reported loss (1 output lines had no metric; 3 lines longer than metrics.maxLineLength (65536) were skipped)',
        ],
      ],
    );

    const costly = await getStudy(suite.api, ns, 'costly');
    const invalid = costly.status?.conditions?.find((c) => c.type === 'Failed');
    assert.equal(costly.status?.phase, 'Failed');
    assert.equal(invalid?.reason, 'InvalidSpec');
    assert.match(
      invalid?.message ?? '',
      /^spec\.metrics\.regex: has counted repetitions whose bounds add up to 120; at most 100 allowed/,
    );
    assert.deepEqual(await listTrials(suite.api, ns, 'costly'), []);

    const elsewhere = await getStudy(suite.api, ns, 'elsewhere');
    assert.equal(elsewhere.status?.phase, 'Failed');
    assert.deepEqual(
      elsewhere.status?.conditions?.filter((c) => c.type === 'Failed').map((c) => [c.reason, c.message]),
      [
        [
          'InvalidSpec',
          `spec.metrics.prometheus.url: "http://169.254.169.254/latest/meta-data" is not in the operator's Prometheus allowlist (http://prometheus.monitoring:9090/)`,
        ],
      ],
    );
    assert.deepEqual(await listTrials(suite.api, ns, 'elsewhere'), []);

    assert.deepEqual(await lease(), first, 'the lease never changed hands');
    assert.equal(op.child.exitCode, null, 'the operator is still running');
  });

  it('does not hold up another study while fitting a model on 2,000 trials with the largest settings', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-history');
    const heavy = {
      ...normalStudy,
      algorithm: {
        name: 'bayesian',
        settings: { fitObservations: 200, maxObservations: 500, nCandidates: 5000, localSteps: 200 },
      },
      maxTrials: 2002,
      parallelism: 2,
    };
    await seedFinishedTrials(suite.c.kc, ns, 'heavy', StudySpec.parse(heavy), 2000);
    const { op, lease, first } = await leaderElectedOperator(suite, ns);
    await createStudy(suite.api, ns, 'heavy', heavy);
    await createStudy(suite.api, ns, 'normal', normalStudy);

    const normal = await waitForStudyEnd(suite.api, ns, 'normal', 180_000, op);
    assert.equal(normal.status?.phase, 'Succeeded', JSON.stringify(normal.status?.conditions));
    const done = await waitForStudyEnd(suite.api, ns, 'heavy', 240_000, op);
    assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status?.conditions));
    const added = (await listTrials(suite.api, ns, 'heavy')).filter((tr) => tr.spec.index >= 2000);
    assert.deepEqual(
      added.map((tr) => [tr.spec.index, tr.status?.state]),
      [
        [2000, 'Succeeded'],
        [2001, 'Succeeded'],
      ],
    );
    for (const tr of added)
      for (const v of Object.values(tr.spec.parameters)) assert.ok(Number(v) >= 0 && Number(v) <= 1, v);

    const events = await suite.c.core.listNamespacedEvent({ namespace: ns });
    const timeouts = events.items.filter((e) => e.reason === 'SuggestionTimeout');
    t.diagnostic(`SuggestionTimeout events: ${timeouts.map((e) => e.message).join(' | ') || 'none'}`);

    assert.deepEqual(await lease(), first, 'the lease never changed hands');
    assert.equal(op.child.exitCode, null, 'the operator is still running');
  });
});
