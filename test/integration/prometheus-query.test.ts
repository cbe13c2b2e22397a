// metrics.source prometheus in mode query against a real Prometheus server: trial pods on the
// process-backed node export gauges on their pod IP, Prometheus scrapes them through file-based
// service discovery that this test keeps up to date, and the operator reads only PromQL.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CustomObjectsApi } from '@kubernetes/client-node';
import { LABEL_STUDY, LABEL_TRIAL } from '../../src/operator/kube/resources.js';
import type { TrialObject } from '../../src/operator/kube/resources.js';
import { createTestNamespace, repoRoot, type Clients } from './support/cluster.js';
import { createStudy, listTrials, operatorSuite, waitForStudyEnd } from './support/operator.js';
import { isLive, startPrometheus, trialTargets, type PrometheusServer } from './support/prometheus.js';

const EXPORTER = join(repoRoot, 'test/fixtures/stepped-exporter.mjs');
const PORT = 9100;
const EPOCHS = 4;
const WARMUP_STEPS = 1;

interface ExportedPoint {
  epoch: number;
  val_loss: number;
  val_accuracy: number;
}

function studySpec(prometheusUrl: string): Record<string, unknown> {
  return {
    objective: { metric: 'val_loss', goal: 'minimize', additionalMetrics: ['val_accuracy'] },
    // In order, one at a time: each trial is judged against those before it.
    algorithm: { name: 'grid', settings: { shuffle: false } },
    parameters: [{ name: 'curve', type: 'categorical', values: ['steady', 'poor', 'better'] }],
    maxTrials: 3,
    parallelism: 1,
    earlyStopping: { name: 'median', settings: { startupTrials: 1, warmupSteps: WARMUP_STEPS } },
    metrics: {
      source: 'prometheus',
      stepKeys: ['epoch'],
      prometheus: {
        mode: 'query',
        url: prometheusUrl,
        intervalSeconds: 0.5,
        metricPrefix: 'kubetune_demo_',
        // val_loss uses the default query, `kubetune_demo_val_loss{trial="<trial>"}`.
        queries: {
          epoch:
            'max(kubetune_demo_epoch{namespace="${trial.namespace}",study="${study.name}",trial="${trial.name}"})',
          val_accuracy: 'kubetune_demo_val_accuracy{trial="${trial.name}"}',
        },
      },
    },
    trialTemplate: {
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: 'Never',
            terminationGracePeriodSeconds: 2,
            containers: [
              {
                name: 'train',
                image: 'node:20',
                command: ['node', EXPORTER],
                args: [
                  '--curve=${params.curve}',
                  `--epochs=${EPOCHS}`,
                  `--port=${PORT}`,
                  '--prefix=kubetune_demo_',
                ],
                env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
              },
            ],
          },
        },
      },
    },
  };
}

async function trainerCall(ip: string, path: string, method = 'GET'): Promise<Response> {
  const res = await fetch(`http://${ip}:${PORT}${path}`, { method, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${method} ${path} on ${ip}: HTTP ${res.status}`);
  return res;
}

/**
 * Until stopped: points Prometheus at the study's live pods, keeps each trainer's record of what
 * it exported, and lets a trainer move on once the operator has recorded its current epoch.
 */
function driveTrials(c: Clients, api: CustomObjectsApi, ns: string, study: string, prom: PrometheusServer) {
  const exported = new Map<string, ExportedPoint[]>();
  let running = true;
  const tick = async () => {
    const pods = (await c.core.listNamespacedPod({ namespace: ns, labelSelector: `${LABEL_STUDY}=${study}` }))
      .items;
    prom.writeTargets(trialTargets(pods, PORT));
    const recorded = new Map((await listTrials(api, ns, study)).map((t) => [t.metadata.name, t]));
    for (const pod of pods.filter(isLive)) {
      const ip = pod.status?.podIP as string;
      const trial = pod.metadata?.labels?.[LABEL_TRIAL] as string;
      try {
        const points = (await (await trainerCall(ip, '/exported')).json()) as ExportedPoint[];
        exported.set(trial, points);
        const epoch = points.at(-1)?.epoch;
        if (epoch !== undefined && recorded.get(trial)?.status?.intermediate?.at(-1)?.step === epoch)
          await trainerCall(ip, `/advance?from=${epoch}`, 'POST');
      } catch {
        // The pod is starting or going away; the next tick sees it as it is then.
      }
    }
  };
  const loop = (async () => {
    while (running) {
      // An apiserver hiccup only delays the next step; waitForStudyEnd bounds the test.
      await tick().catch(() => {});
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    exported,
    async stop() {
      running = false;
      await loop;
    },
  };
}

function assertRecordedAsExported(trial: TrialObject, exported: ExportedPoint[] | undefined): void {
  const name = trial.metadata.name;
  assert.ok(exported?.length, `${name}: the test read what its trainer exported`);
  const recorded = (trial.status?.intermediate ?? []).map((p) => [p.step, p.value]);
  assert.ok(recorded.length > 0, `${name} recorded intermediate values`);
  const expected = exported.slice(0, recorded.length).map((p) => [p.epoch, p.val_loss]);
  assert.deepEqual(recorded, expected, `${name}: intermediate values are the exported (epoch, val_loss)`);
}

describe('operator with metrics from a real Prometheus server (mode query)', () => {
  const suite = operatorSuite();
  let prom: PrometheusServer | undefined;
  before(async () => {
    prom = await startPrometheus();
  });
  after(async () => {
    await prom?.stop();
  });

  it('records the exported curves, prunes the poor trial and keeps the last exported values', async (t) => {
    const server = prom as PrometheusServer;
    const ns = await createTestNamespace(t, suite.c, 'prom-query');
    const op = suite.start(['--namespaces', ns, '--prometheus-url-allowlist', server.url]);
    await createStudy(suite.api, ns, 'curves', studySpec(server.url));
    const driver = driveTrials(suite.c, suite.api, ns, 'curves', server);
    let study;
    try {
      study = await waitForStudyEnd(suite.api, ns, 'curves', 300_000, op);
    } finally {
      await driver.stop();
    }
    const trials = await listTrials(suite.api, ns, 'curves');
    const byCurve = new Map(trials.map((tr) => [tr.spec.parameters['curve'], tr]));
    const summary = JSON.stringify(trials.map((tr) => [tr.metadata.name, tr.spec.parameters, tr.status]));
    assert.equal(study.status?.phase, 'Succeeded', summary);
    assert.deepEqual([...byCurve.keys()].sort(), ['better', 'poor', 'steady'], summary);

    for (const curve of ['steady', 'better']) {
      const trial = byCurve.get(curve) as TrialObject;
      const exported = driver.exported.get(trial.metadata.name);
      assert.equal(trial.status?.state, 'Succeeded', `${curve}: ${trial.status?.message}`);
      assertRecordedAsExported(trial, exported);
      assert.equal(trial.status?.intermediate?.length, EPOCHS, `${curve}: every epoch recorded`);
      const last = exported?.at(-1) as ExportedPoint;
      assert.equal(trial.status?.objective, last.val_loss, `${curve}: final val_loss is the last exported`);
      assert.equal(
        trial.status?.metrics?.['val_accuracy'],
        last.val_accuracy,
        `${curve}: final val_accuracy`,
      );
    }

    const poor = byCurve.get('poor') as TrialObject;
    assert.equal(poor.status?.state, 'Pruned', `poor: ${poor.status?.state} ${poor.status?.message}`);
    assertRecordedAsExported(poor, driver.exported.get(poor.metadata.name));
    const prunedAt = poor.status?.prunedAtStep as number;
    assert.ok(prunedAt > WARMUP_STEPS, `pruned at step ${prunedAt}, after the warm-up`);
    assert.ok(
      poor.status?.intermediate?.some((p) => p.step === prunedAt),
      `pruned at step ${prunedAt}, one it reported`,
    );
    assert.match(poor.status?.message ?? '', /median/);
    assert.equal(study.status?.bestTrial?.name, byCurve.get('better')?.metadata.name, summary);
  });
});
