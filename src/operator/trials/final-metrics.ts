import type { KubeConfig } from '@kubernetes/client-node';
import { primaryObjective } from '../../api/objectives.js';
import type { StudySpec } from '../../api/study.js';
import type { IntermediateValue, TrialStatus } from '../../api/trial.js';
import { type FinalResult, MetricCollector } from '../../metrics/collector.js';
import { streamPodLog } from '../kube/pod-logs.js';

const FINAL_LOG_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Final values, and the whole curve, from the whole log of the finished container. Reading it
 * all again (rather than trusting what a live follower saw) makes the result independent of
 * reconnects, restarts and Job retries.
 */
export async function finalFromLogs(
  kc: KubeConfig,
  spec: StudySpec,
  namespace: string,
  pod: string,
  container: string,
): Promise<{ result: FinalResult; intermediate: IntermediateValue[] }> {
  const collector = new MetricCollector(spec);
  await streamPodLog(kc, { namespace, pod, container, limitBytes: FINAL_LOG_LIMIT_BYTES }, (line) =>
    collector.feedLine(line),
  );
  return { result: collector.final(), intermediate: collector.intermediate() };
}

/** Final values from what was persisted in Trial status (Prometheus sources, or a vanished pod). */
export function finalFromStatus(spec: StudySpec, status: TrialStatus | undefined): FinalResult {
  const metric = primaryObjective(spec).metric;
  const strategy = spec.metrics.strategies?.[metric] ?? spec.metrics.strategy;
  const points = status?.intermediate ?? [];
  let objective = status?.metrics?.[metric];
  if (strategy !== 'last' && points.length > 0) {
    const values = points.map((p) => p.value);
    objective = strategy === 'min' ? Math.min(...values) : Math.max(...values);
  }
  if (objective === undefined) {
    return { ok: false, reason: 'MetricsUnavailable', message: `the trial never reported ${metric}` };
  }
  return { ok: true, objective, metrics: { ...(status?.metrics ?? {}), [metric]: objective } };
}
