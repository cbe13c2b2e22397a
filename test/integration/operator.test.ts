import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/engine/rng.js';
import { errorMessage } from '../../src/operator/runtime/kube-errors.js';
import { runCli } from '../support/run-cli.js';
import { createTestNamespace, kubeconfigPath, waitFor } from './support/cluster.js';
import {
  chaosSeed,
  createStudy,
  fakeTrainerTemplate,
  listTrials,
  operatorSuite,
  waitForStudyEnd,
} from './support/operator.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const twoDims = [
  { name: 'x', type: 'double', min: 0, max: 1 },
  { name: 'y', type: 'double', min: 0, max: 1 },
];

describe('operator on the real test cluster', () => {
  const suite = operatorSuite();

  it('runs the real trainer: parallelism 2, maxTrials 6, values from logs, best trial in status', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-trainer');
    const op = suite.start(['--namespaces', ns]);
    await createStudy(suite.api, ns, 'mnist', {
      objective: { metric: 'val_accuracy', goal: 'maximize', additionalMetrics: ['val_loss'] },
      algorithm: { name: 'sobol' },
      parameters: [
        { name: 'learning_rate', type: 'double', min: 1e-3, max: 0.05, log: true },
        { name: 'units', type: 'int', min: 16, max: 64, step: 16 },
      ],
      maxTrials: 6,
      parallelism: 2,
      trialTemplate: {
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: 'trainer',
                  image: 'ghcr.io/kubetune/trainer:0.1.0',
                  args: [
                    '--epochs=2',
                    '--train-size=1000',
                    '--learning-rate=${params.learning_rate}',
                    '--units=${params.units}',
                    '--seed=${trial.index}',
                  ],
                  resources: { limits: { 'nvidia.com/gpu': 1 } },
                },
              ],
            },
          },
        },
      },
    });
    const study = await waitForStudyEnd(suite.api, ns, 'mnist', 240_000, op);
    assert.equal(study.status?.phase, 'Succeeded', JSON.stringify(study.status?.conditions));
    const trials = await listTrials(suite.api, ns, 'mnist');
    assert.deepEqual(
      trials.map((tr) => tr.spec.index),
      [0, 1, 2, 3, 4, 5],
    );
    for (const tr of trials) {
      assert.equal(
        tr.status?.state,
        'Succeeded',
        `${tr.metadata.name}: ${tr.status?.reason} ${tr.status?.message}`,
      );
      assert.ok(tr.spec.parameters['learning_rate'] && tr.spec.parameters['units']);
      assert.ok(
        (tr.status?.intermediate ?? []).length >= 1,
        `${tr.metadata.name} has no intermediate values`,
      );
      assert.ok(typeof tr.status?.objective === 'number' && tr.status.objective > 0.1);
      assert.ok(typeof tr.status?.metrics?.['val_loss'] === 'number');
    }
    const best = trials.reduce((a, b) => ((b.status?.objective ?? 0) > (a.status?.objective ?? 0) ? b : a));
    assert.equal(study.status?.bestTrial?.name, best.metadata.name);
    assert.equal(study.status?.trials?.succeeded, 6);
    const jobs = await suite.c.batch.listNamespacedJob({ namespace: ns });
    assert.equal(jobs.items.length, 6);

    const status = await runCli(['status', 'mnist', '-n', ns, '--kubeconfig', kubeconfigPath]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(
      status.stdout,
      new RegExp(`best trial: ${best.metadata.name} value=${best.status?.objective}`),
    );
    const listed = await runCli(['trials', 'mnist', '-n', ns, '--kubeconfig', kubeconfigPath]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stdout.trim().split('\n').length, 7, listed.stdout);
    assert.match(listed.stdout, /^TRIAL\s+STATE\s+OBJECTIVE\s+LEARNING_RATE\s+UNITS/);
    assert.ok(jobs.items.every((j) => j.metadata?.ownerReferences?.[0]?.kind === 'Trial'));
  });

  it('survives SIGKILL at random points: exactly maxTrials trials, no duplicates, no orphaned Jobs', async (t) => {
    const seed = chaosSeed();
    t.diagnostic(`chaos seed ${seed}: replay the same kill times with KUBETUNE_CHAOS_SEED=${seed}`);
    const ns = await createTestNamespace(t, suite.c, 'op-crash');
    let op = suite.start(['--namespaces', ns]);
    await createStudy(suite.api, ns, 'crashy', {
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: { name: 'random' },
      parameters: twoDims,
      maxTrials: 12,
      parallelism: 3,
      seed: 5,
      trialTemplate: fakeTrainerTemplate([
        '--x=${params.x}',
        '--y=${params.y}',
        '--epochs=3',
        '--sleep-ms=300',
      ]),
    });
    let kills = 0;
    const rng = new Rng(seed);
    while (kills < 6) {
      await sleep(400 + rng.int(1600));
      await op.kill('SIGKILL');
      kills++;
      op = suite.start(['--namespaces', ns]);
    }
    const study = await waitForStudyEnd(suite.api, ns, 'crashy', 180_000, op);
    assert.equal(study.status?.phase, 'Succeeded', JSON.stringify(study.status));
    const trials = await listTrials(suite.api, ns, 'crashy');
    assert.deepEqual(
      trials.map((tr) => tr.spec.index),
      [...Array(12).keys()],
    );
    assert.ok(
      trials.every((tr) => tr.status?.state === 'Succeeded'),
      trials.map((tr) => `${tr.metadata.name}:${tr.status?.state}:${tr.status?.message}`).join('\n'),
    );
    const keys = new Set(trials.map((tr) => JSON.stringify(tr.spec.parameters)));
    assert.equal(keys.size, 12, 'two trials got the same parameters');
    const jobs = (await suite.c.batch.listNamespacedJob({ namespace: ns })).items;
    const trialUids = new Set(trials.map((tr) => tr.metadata.uid));
    assert.equal(jobs.length, 12);
    for (const job of jobs) {
      assert.ok(trialUids.has(job.metadata?.ownerReferences?.[0]?.uid), `orphaned job ${job.metadata?.name}`);
      const trial = trials.find((tr) => tr.metadata.name === job.metadata?.name)!;
      assert.ok(
        job.spec?.template.spec?.containers[0]?.args?.includes(`--x=${trial.spec.parameters['x']}`),
        'job args do not match its trial',
      );
    }
  });

  it('ends each failure mode in the right state and reason, and the study goes on', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-fail');
    const op = suite.start(['--namespaces', ns]);
    await createStudy(suite.api, ns, 'modes', {
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: { name: 'grid' },
      parameters: [{ name: 'mode', type: 'categorical', values: ['ok', 'crash', 'nometric', 'nan', 'hang'] }],
      maxTrials: 5,
      parallelism: 5,
      maxFailedTrials: 10,
      // Only 'hang' may reach it. The others run for well under a second of their own, but their
      // pods' status reaches the apiserver later on a loaded machine; 4 s left too little room.
      trialTimeoutSeconds: 10,
      trialTemplate: fakeTrainerTemplate(['--mode=${params.mode}']),
    });
    await createStudy(suite.api, ns, 'greedy', {
      objective: { metric: 'loss', goal: 'minimize' },
      algorithm: { name: 'random' },
      parameters: twoDims,
      maxTrials: 1,
      maxFailedTrials: 0,
      pendingTimeoutSeconds: 3,
      trialTemplate: fakeTrainerTemplate(['--x=${params.x}'], {
        resources: { limits: { 'nvidia.com/gpu': 64 } },
      }),
    });
    const modes = await waitForStudyEnd(suite.api, ns, 'modes', 90_000, op);
    assert.equal(modes.status?.phase, 'Succeeded');
    const byMode = Object.fromEntries(
      (await listTrials(suite.api, ns, 'modes')).map((tr) => [tr.spec.parameters['mode'], tr.status]),
    );
    // The recorded reason is what tells a wrong state apart from a slow one.
    const recorded = (mode: string) => `${mode}: ${JSON.stringify(byMode[mode])}`;
    assert.equal(byMode['ok']?.state, 'Succeeded', recorded('ok'));
    assert.equal(byMode['crash']?.state, 'Failed', recorded('crash'));
    assert.equal(byMode['crash']?.reason, 'ExitCode', recorded('crash'));
    assert.match(byMode['crash']?.message ?? '', /exited with code 3/);
    assert.equal(byMode['nometric']?.state, 'MetricsUnavailable', recorded('nometric'));
    assert.equal(byMode['nan']?.state, 'Failed', recorded('nan'));
    assert.equal(byMode['nan']?.reason, 'ObjectiveNotFinite', recorded('nan'));
    assert.equal(byMode['hang']?.state, 'Failed', recorded('hang'));
    assert.equal(byMode['hang']?.reason, 'Timeout', recorded('hang'));
    await waitFor(
      async () =>
        (await suite.c.batch.listNamespacedJob({ namespace: ns, labelSelector: 'kubetune.io/trial=modes-4' }))
          .items.length === 0 || undefined,
      30_000,
      'the timed-out job to be deleted',
    );

    const greedy = await waitForStudyEnd(suite.api, ns, 'greedy', 60_000, op);
    assert.equal(greedy.status?.phase, 'Failed');
    const [trial] = await listTrials(suite.api, ns, 'greedy');
    assert.equal(trial?.status?.state, 'Failed');
    assert.equal(trial?.status?.reason, 'Unschedulable');
    assert.match(trial?.status?.message ?? '', /nvidia\.com\/gpu/);
  });

  it('rejects invalid manifests at the apiserver with the CEL and schema messages', async (t) => {
    const ns = await createTestNamespace(t, suite.c, 'op-cel');
    const base = {
      objective: { metric: 'loss', goal: 'minimize' },
      parameters: [{ name: 'lr', type: 'double', min: 0.1, max: 0.01 }],
      trialTemplate: fakeTrainerTemplate([]),
    };
    await assert.rejects(createStudy(suite.api, ns, 'bad1', base), (err: Error & { body?: unknown }) =>
      /min must be less than max/.test(errorMessage(err)),
    );
    await assert.rejects(
      createStudy(suite.api, ns, 'bad2', {
        ...base,
        parameters: [{ name: 'lr', type: 'double', min: 0, max: 1, log: true }],
      }),
      (err: unknown) => /log: true needs min > 0/.test(errorMessage(err)),
    );
    await assert.rejects(
      createStudy(suite.api, ns, 'bad3', {
        ...base,
        parameters: [{ name: 'o', type: 'categorical', values: [] }],
      }),
      (err: Error & { body?: unknown }) =>
        /categorical parameters need a non-empty values list/.test(errorMessage(err)),
    );
    await assert.rejects(
      createStudy(suite.api, ns, 'bad4', {
        ...base,
        parameters: [{ name: 'lr', type: 'double', min: 0.01, max: 0.1 }],
        algorithm: { name: 'annealing' },
      }),
      (err: Error & { body?: unknown }) => /Unsupported value: "annealing"/.test(errorMessage(err)),
    );
    await assert.rejects(
      createStudy(suite.api, ns, 'bad5', {
        ...base,
        parameters: [{ name: 'lr', type: 'double', min: 0.01, max: 0.1 }],
        parallelism: -1,
      }),
      (err: unknown) => /parallelism/.test(errorMessage(err)),
    );
  });
});
