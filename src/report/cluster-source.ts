import pino from 'pino';
import type { Assignment } from '../api/parameter.js';
import { StudySpec } from '../api/study.js';
import { SearchSpace } from '../engine/search-space.js';
import type { KubeClients } from '../operator/kube/clients.js';
import { LABEL_STUDY, LABEL_TRIAL, type StudyObject, type TrialObject } from '../operator/kube/resources.js';
import { createInformers } from '../operator/informers.js';
import { trialGpus } from '../operator/study/slot-ledger.js';
import { trialGpuHours } from '../operator/study/study-status.js';
import type { ReportStudy, ReportTrial } from './model.js';
import { DASHBOARD_LOG_BYTES, type StudySource } from './source.js';
import { reportStudy } from './study-data.js';

/** Parameter values as numbers where the study says so; a value that does not parse stays text. */
function params(space: SearchSpace, raw: Record<string, string>): Assignment {
  try {
    return space.parse(raw);
  } catch {
    return { ...raw };
  }
}

function clusterTrial(t: TrialObject, space: SearchSpace, gpus: number, now: Date): ReportTrial {
  const s = t.status;
  return {
    name: t.metadata?.name ?? '',
    index: t.spec.index,
    state: s?.state ?? 'Pending',
    params: params(space, t.spec.parameters),
    ...(s?.objective !== undefined ? { value: s.objective } : {}),
    intermediate: s?.intermediate ?? [],
    ...(s?.prunedAtStep !== undefined ? { prunedAtStep: s.prunedAtStep } : {}),
    ...(s?.reason !== undefined ? { reason: s.reason } : {}),
    ...(s?.message !== undefined ? { message: s.message } : {}),
    ...(s?.startTime !== undefined ? { startTime: s.startTime } : {}),
    ...(s?.completionTime !== undefined ? { completionTime: s.completionTime } : {}),
    gpuHours: trialGpuHours(s, gpus, now),
  };
}

/** One Study and its Trials as the page sees them; undefined for a Study whose spec does not parse. */
export function clusterStudy(
  study: StudyObject,
  trials: readonly TrialObject[],
  now: Date,
): ReportStudy | undefined {
  const parsed = StudySpec.safeParse(study.spec);
  if (!parsed.success) return undefined;
  const spec = parsed.data;
  const space = new SearchSpace(spec.parameters);
  const gpusOf = trialGpus(study.metadata?.name ?? '', spec);

  const namespace = study.metadata?.namespace ?? '';
  const name = study.metadata?.name ?? '';
  const id = `${namespace}/${name}`;
  return reportStudy(
    id,
    name,
    spec,
    trials.map((t) => clusterTrial(t, space, gpusOf(t), now)),
    {
      logUrl: `log?study=${encodeURIComponent(id)}`,
      ...(study.status?.priors ? { priors: study.status.priors } : {}),
    },
  );
}

/**
 * The Studies of one namespace, read with the user's own credentials: a watch on Studies and
 * Trials (restarted with backoff when it breaks) keeps a cache, and pod logs are read on demand.
 */
export function clusterSource(c: KubeClients, namespace: string): StudySource {
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const informers = createInformers(c, [namespace], logger);
  const studies = informers.studies[0]!;
  const trials = informers.trials[0]!;
  const trialsOf = (name: string) =>
    trials.list(namespace).filter((t) => t.metadata?.labels?.[LABEL_STUDY] === name || t.spec.study === name);
  return {
    async studies() {
      const now = new Date();
      return studies
        .list(namespace)
        .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))
        .flatMap((s) => clusterStudy(s, trialsOf(s.metadata?.name ?? ''), now) ?? []);
    },
    async watch(changed) {
      for (const informer of [studies, trials])
        for (const event of ['add', 'update', 'delete'] as const) informer.on(event, changed);
      await Promise.all([studies.start(), trials.start()]);
      return async () => {
        await Promise.all([studies.stop(), trials.stop()]);
      };
    },
    async log(studyId, trialName) {
      const trial = trialsOf(studyId.slice(namespace.length + 1)).find((t) => t.metadata?.name === trialName);
      if (!trial) throw new Error(`no trial ${trialName} in study ${studyId}`);
      const pod =
        trial.status?.podName ??
        (await c.core.listNamespacedPod({ namespace, labelSelector: `${LABEL_TRIAL}=${trialName}` })).items[0]
          ?.metadata?.name;
      if (!pod) throw new Error(`trial ${trialName} has no pod (yet)`);
      return c.core.readNamespacedPodLog({ namespace, name: pod, limitBytes: DASHBOARD_LOG_BYTES });
    },
  };
}
