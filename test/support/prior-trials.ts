// Finished trials written straight to the apiserver, as if a study had run them: a long history
// without running thousands of Jobs. Used by the isolation test and bench:isolation.
import type { KubeConfig } from '@kubernetes/client-node';
import { primaryObjective } from '../../src/api/objectives.js';
import { API_GROUP_VERSION, type StudySpec } from '../../src/api/study.js';
import { Rng } from '../../src/engine/rng.js';
import { StudyEngine } from '../../src/engine/study-engine.js';
import { trialName } from '../../src/engine/trial-template.js';
import { makeClients } from '../../src/operator/kube/clients.js';
import type { TrialObject } from '../../src/operator/kube/resources.js';
import { TrialStore } from '../../src/operator/study/trial-store.js';
import { trialLabels } from '../../src/operator/trials/job-builder.js';

/** Creates `count` Succeeded trials (indices 0..count-1) of `study` with a smooth objective. */
export async function seedFinishedTrials(
  kc: KubeConfig,
  namespace: string,
  study: string,
  spec: StudySpec,
  count: number,
  concurrency = 16,
): Promise<void> {
  const store = new TrialStore(makeClients(kc));
  const space = new StudyEngine(spec).space;
  let next = 0;
  const one = async (index: number) => {
    const u = new Rng(spec.seed, 'prior-trials', index).unitVector(space.size);
    const name = trialName(study, index);
    const body: TrialObject = {
      apiVersion: API_GROUP_VERSION,
      kind: 'Trial',
      metadata: { name, namespace, labels: trialLabels(study, name, index) },
      spec: { study, index, parameters: space.format(space.fromUnit(u)) },
    };
    await store.createTrial(body);
    const objective = u.reduce((sum, v, i) => sum + (v - (i % 2 ? 0.7 : 0.3)) ** 2, 0);
    await store.patchTrialStatus(namespace, name, {
      state: 'Succeeded',
      objective,
      metrics: { [primaryObjective(spec).metric]: objective },
      completionTime: new Date().toISOString(),
    });
  };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await one(next++);
    }),
  );
}
