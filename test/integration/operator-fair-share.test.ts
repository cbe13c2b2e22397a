// The operator dividing --max-gpus among Studies by weight, on the real test control plane
// (4 GPUs per node). Each trial waits for a file the test creates, so the test, not the clock,
// decides when a trial ends: every assertion is about which trials hold GPUs, never how soon.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LABEL_STUDY, LABEL_TRIAL } from '../../src/operator/kube/resources.js';
import { fairShare } from '../../src/operator/study/fair-share.js';
import { createTestNamespace, waitFor, type Clients } from './support/cluster.js';
import { gateDir, gatedStudy, jobFinished, openGate } from './support/gated-trials.js';
import { createStudy, getStudy, operatorSuite } from './support/operator.js';

const GPUS = 4;
const WAIT_MS = 180_000;
const MAX_TRIALS = 20;
const PARALLELISM = 8;

interface StudyAt {
  key: string;
  weight: number;
}

/** Per study: the trials whose Jobs hold a GPU now and how many it has created, from one Job list. */
interface Snapshot {
  running: Map<string, string[]>;
  created: Map<string, number>;
  finished: Set<string>;
}

/**
 * Jobs whose pod has succeeded: the pod holds no GPU any more, and the operator ends a one-pod
 * Job's trial then, while the Job controller may take a while longer to mark the Job Complete.
 */
async function podSucceeded(c: Clients): Promise<Set<string>> {
  const pods = await c.core.listPodForAllNamespaces({ labelSelector: LABEL_STUDY });
  const jobs = new Set<string>();
  for (const p of pods.items) {
    const job = p.metadata?.ownerReferences?.find((o) => o.kind === 'Job')?.name;
    if (job && p.status?.phase === 'Succeeded') jobs.add(`${p.metadata?.namespace}/${job}`);
  }
  return jobs;
}

async function snapshot(c: Clients, studies: readonly StudyAt[]): Promise<Snapshot> {
  // Jobs first: a Job the operator creates after its trial's GPU was freed comes after the pod's
  // success, so it cannot be in this list while the pod's old Job still counts as running.
  const jobs = await c.batch.listJobForAllNamespaces({ labelSelector: LABEL_STUDY });
  const succeeded = await podSucceeded(c);
  const snap: Snapshot = {
    running: new Map(studies.map((s) => [s.key, []])),
    created: new Map(studies.map((s) => [s.key, 0])),
    finished: new Set(),
  };
  for (const j of jobs.items) {
    const key = `${j.metadata?.namespace}/${j.metadata?.labels?.[LABEL_STUDY]}`;
    const trial = j.metadata?.labels?.[LABEL_TRIAL] ?? (j.metadata?.name as string);
    if (!snap.created.has(key)) continue;
    snap.created.set(key, snap.created.get(key)! + 1);
    if (jobFinished(j) || succeeded.has(`${j.metadata?.namespace}/${j.metadata?.name}`))
      snap.finished.add(trial);
    else snap.running.get(key)!.push(trial);
  }
  return snap;
}

/** The allocation fairShare gives the studies over all GPUs, each wanting its full parallelism. */
function expectedShares(studies: readonly StudyAt[]): Map<string, number> {
  return fairShare(
    studies.map((s) => ({
      key: s.key,
      priority: 0,
      weight: s.weight,
      usedGpus: 0,
      usedTrials: 0,
      demand: PARALLELISM,
      gpusPerTrial: 1,
    })),
    { gpus: GPUS },
  );
}

/**
 * Fails on a snapshot, taken while every study still has trials to start, where a study holds
 * more than one GPU over its share, or, once all GPUs are held, more than one under it. (While a
 * GPU is changing hands a study may briefly hold less: its trial ended and the next is not yet
 * created.)
 */
function checkShares(snap: Snapshot, studies: readonly StudyAt[]): void {
  if (studies.some((s) => snap.created.get(s.key)! >= MAX_TRIALS)) return;
  const expected = expectedShares(studies);
  const full = [...snap.running.values()].flat().length === GPUS;
  const held = studies.map((s) => `${s.key}=${snap.running.get(s.key)!.length}`).join(' ');
  const want = [...expected].map(([k, n]) => `${k}=${n}`).join(' ');
  for (const s of studies) {
    const diff = snap.running.get(s.key)!.length - expected.get(s.key)!;
    assert.ok(diff <= 1, `running ${held}; a study holds more than 1 GPU over its share: ${want}`);
    if (full) assert.ok(diff >= -1, `running ${held} on all GPUs; expected ${want} within ±1`);
  }
}

describe('operator fair share of --max-gpus on the real test cluster', () => {
  const suite = operatorSuite();

  it('splits 4 GPUs 1:1:2 among a burst of studies, and a study added mid-run gets its share once running trials end', async (t) => {
    const dir = gateDir(t);
    // The fourth study's namespace sorts first, so the ledger's ties (equal weight) go to it.
    const nsFirst = await Promise.all(
      ['fs-b', 'fs-b', 'fs-b'].map((p) => createTestNamespace(t, suite.c, p)),
    );
    const nsLate = await createTestNamespace(t, suite.c, 'fs-a');
    const three: StudyAt[] = nsFirst.map((ns, i) => ({ key: `${ns}/share`, weight: i === 2 ? 2 : 1 }));
    const four: StudyAt[] = [...three, { key: `${nsLate}/share`, weight: 1 }];
    // All three exist before the operator starts: a burst, seen together before any pass plans.
    for (const [i, ns] of nsFirst.entries())
      await createStudy(
        suite.api,
        ns,
        'share',
        gatedStudy(dir, { maxTrials: MAX_TRIALS, parallelism: PARALLELISM, weight: three[i]!.weight }),
      );
    const op = suite.start(['--namespaces', [...nsFirst, nsLate].join(','), '--max-gpus', String(GPUS)]);
    const withLog = (err: unknown) => {
      throw new Error(`${(err as Error).message}\n${op.output().split('\n').slice(-30).join('\n')}`);
    };

    /** Waits, checking every snapshot, until all GPUs are held again and `ended` trials have finished. */
    const refill = async (studies: readonly StudyAt[], ended: readonly string[], what: string) => {
      // A share violated is final: it stops the wait at once instead of being retried until the timeout.
      let violation: unknown;
      const snap = await waitFor(
        async () => {
          const snap = await snapshot(suite.c, studies);
          try {
            checkShares(snap, studies);
          } catch (err) {
            violation = err;
            return snap;
          }
          const running = [...snap.running.values()].flat().length;
          return running === GPUS && ended.every((n) => snap.finished.has(n)) ? snap : undefined;
        },
        WAIT_MS,
        what,
      ).catch(withLog);
      if (violation) throw violation;
      return snap;
    };

    let snap = await refill(three, [], 'the three studies to hold all 4 GPUs');
    // End one trial at a time, each study's in turn: the freed GPU goes back to the share.
    for (let i = 0; i < 3; i++) {
      const victim = snap.running.get(three[i]!.key)![0]!;
      openGate(dir, victim);
      snap = await refill(three, [victim], `the GPU of ${victim} to be used again`);
    }

    await createStudy(
      suite.api,
      nsLate,
      'share',
      gatedStudy(dir, { maxTrials: MAX_TRIALS, parallelism: PARALLELISM, weight: 1 }),
    );
    // Mid-run means the operator has seen it: its first pass wrote a status (and started nothing).
    await waitFor(
      async () => (await getStudy(suite.api, nsLate, 'share')).status?.phase,
      WAIT_MS,
      'the fourth study to be reconciled',
    ).catch(withLog);
    const before = [...snap.running.values()].flat();
    for (const trial of before) openGate(dir, trial);
    snap = await refill(four, before, 'every trial running when the fourth study arrived to end');

    checkShares(snap, four);
    assert.ok(
      snap.running.get(four[3]!.key)!.length >= 1,
      `the fourth study holds no GPU: ${JSON.stringify([...snap.running])}`,
    );
  });
});
