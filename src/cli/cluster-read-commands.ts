import { parseArgs } from 'node:util';
import { ObjectiveGoal, type ParetoFront } from '../api/study.js';
import { loadKubeConfig, makeClients } from '../operator/kube/clients.js';
import type { StudyObject } from '../operator/kube/resources.js';
import { errorMessage } from '../operator/runtime/kube-errors.js';
import { TrialStore } from '../operator/study/trial-store.js';
import { UserError } from './load-study.js';

function args(argv: string[], usage: string) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      namespace: { type: 'string', short: 'n' },
      kubeconfig: { type: 'string' },
      output: { type: 'string', short: 'o' },
    },
  });
  if (positionals.length !== 1) throw new UserError(usage);
  const kc = loadKubeConfig(values.kubeconfig);
  const namespace = values.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  return {
    name: positionals[0] as string,
    namespace,
    store: new TrialStore(makeClients(kc)),
    json: values.output === 'json',
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function getStudy(store: TrialStore, namespace: string, name: string): Promise<StudyObject> {
  let study: StudyObject | undefined;
  try {
    study = await store.getStudy(namespace, name);
  } catch (err) {
    throw new UserError(`cannot read study ${namespace}/${name}: ${errorMessage(err)}`);
  }
  if (!study) throw new UserError(`study ${namespace}/${name} not found`);
  return study;
}

export async function statusCommand(argv: string[]): Promise<number> {
  const { name, namespace, store, json } = args(
    argv,
    'usage: kubetune status STUDY [-n NAMESPACE] [--kubeconfig PATH] [-o json]',
  );
  const study = await getStudy(store, namespace, name);
  if (json) {
    console.log(JSON.stringify(study.status ?? {}, null, 2));
    return 0;
  }
  const s = study.status ?? {};
  const c = s.trials;
  console.log(`study ${namespace}/${name}: ${s.phase ?? 'Pending'}`);
  if (c)
    console.log(
      `trials: ${c.total} total, ${c.running} running, ${c.pending} pending, ${c.succeeded} succeeded, ${c.failed} failed, ${c.pruned} pruned, ${c.metricsUnavailable} without metrics`,
    );
  if (s.priors)
    console.log(
      `priors: ${s.priors.trials} finished trials of earlier studies seeded the sampler (${s.priors.studies
        .map((p) => `${p.name}: ${p.trials}`)
        .join(', ')}); not counted above`,
    );
  for (const cond of s.conditions ?? [])
    if (cond.status === 'True')
      console.log(`${cond.type}: ${cond.reason}${cond.message ? ` — ${cond.message}` : ''}`);
  if (s.bestTrial) {
    console.log(`best trial: ${s.bestTrial.name} value=${s.bestTrial.value}`);
    for (const [k, v] of Object.entries(s.bestTrial.parameters)) console.log(`  ${k}: ${v}`);
  }
  if (s.paretoFront) {
    // The spec is unvalidated here; without readable objectives the values go unlabelled.
    const objectives = ObjectiveGoal.array().safeParse((study.spec as { objectives?: unknown }).objectives);
    const metrics = objectives.success ? objectives.data.map((o) => o.metric) : [];
    printParetoFront(
      s.paretoFront,
      s.paretoFront.trials[0]?.values.map((_, i) => metrics[i] ?? `value${i}`) ?? [],
    );
  }
  return 0;
}

function printParetoFront(front: ParetoFront, metrics: string[]): void {
  const listed = front.trials.length < front.size ? ` (${front.trials.length} listed)` : '';
  console.log(`Pareto front: ${front.size} trials${listed}`);
  if (front.trials.length === 0) return;
  const params = [...new Set(front.trials.flatMap((t) => Object.keys(t.parameters)))];
  const rows = [['TRIAL', ...metrics.map((m) => m.toUpperCase()), ...params.map((p) => p.toUpperCase())]];
  for (const t of front.trials)
    rows.push([t.name, ...t.values.map(String), ...params.map((p) => t.parameters[p] ?? '')]);
  console.log(table(rows));
}

export async function trialsCommand(argv: string[]): Promise<number> {
  const { name, namespace, store, json } = args(
    argv,
    'usage: kubetune trials STUDY [-n NAMESPACE] [--kubeconfig PATH] [-o json]',
  );
  await getStudy(store, namespace, name);
  const trials = (await store.listTrials(namespace, name)).sort((a, b) => a.spec.index - b.spec.index);
  if (json) {
    console.log(
      JSON.stringify(
        trials.map((t) => ({ name: t.metadata.name, parameters: t.spec.parameters, ...t.status })),
        null,
        2,
      ),
    );
    return 0;
  }
  const params = [...new Set(trials.flatMap((t) => Object.keys(t.spec.parameters)))];
  const rows = [['TRIAL', 'STATE', 'OBJECTIVE', ...params.map((p) => p.toUpperCase()), 'REASON']];
  for (const t of trials) {
    rows.push([
      t.metadata.name,
      t.status?.state ?? 'Pending',
      t.status?.objective?.toString() ?? '',
      ...params.map((p) => t.spec.parameters[p] ?? ''),
      t.status?.reason ?? '',
    ]);
  }
  console.log(table(rows));
  return 0;
}
