// Renders docs/study-reference.md from the zod schema of a Study's spec, so the reference cannot
// drift from what `kubetune validate`, the local runner and the CRD accept. The schema carries
// types, defaults, enums and bounds; NOTES adds a sentence where a field needs one, and the
// unit test fails when a note names a field that no longer exists.
import { z } from 'zod';
import { StudySpec } from '../src/api/study.js';

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  anyOf?: Schema[];
};

/** One sentence per field where the type and bounds alone do not say enough. */
export const NOTES: Record<string, string> = {
  parameters: 'The search space: one entry per hyperparameter, substituted as `${params.NAME}`.',
  'parameters[].min': 'Lower bound (double and int).',
  'parameters[].max': 'Upper bound (double and int).',
  'parameters[].log': 'Sample on a log scale; needs min > 0, cannot be combined with step.',
  'parameters[].step': 'Grid spacing from min; int parameters need whole numbers.',
  'parameters[].values': 'The choices of a categorical parameter.',
  'parameters[].when':
    'Makes the parameter conditional: it exists only while its parent takes one of the listed values; write it `${params.NAME?}` (see docs/algorithms.md).',
  'parameters[].when.parameter': 'The parent: another categorical or int parameter (no cycles).',
  'parameters[].when.in': 'Parent values that activate the parameter, as strings (ints too: `"2"`).',
  objective: 'One objective; give either this or `objectives`.',
  'objective.metric': 'Metric whose final value ranks trials.',
  'objective.target': 'The study stops as soon as a trial reaches this value.',
  'objective.additionalMetrics': 'Other metrics recorded with each trial.',
  objectives:
    'Two or more objectives instead of `objective`; the result is the Pareto front (see docs/multi-objective.md).',
  'objectives[].metric': 'Metric read from the same lines as every other.',
  constraints:
    'Bounds on reported metrics: a trial that misses one, or never reports its metric, is infeasible and never best.',
  'constraints[].max': 'Feasible when the final value is at most this (give max or min).',
  'constraints[].min': 'Feasible when the final value is at least this (give max or min).',
  'algorithm.name': 'Sampler; see docs/algorithms.md.',
  'algorithm.settings': 'Sampler-specific settings; each sampler names the field it rejects.',
  earlyStopping: 'Pruner that stops unpromising trials from their intermediate values.',
  maxTrials: 'Trials to run in total.',
  parallelism: 'Trials of this study running at once.',
  maxFailedTrials: 'The study fails once more trials than this have failed.',
  seed: 'Seed of the sampler; the same seed and spec give the same trials.',
  'metrics.source': '`logs`: parse the primary container log; `prometheus`: read /metrics.',
  'metrics.format': '`keyvalue`: `epoch=3 loss=0.29`; `json`: one object per line; `regex`: named groups.',
  'metrics.regex':
    'RE2 pattern (linear-time; no lookaround or backreferences) with named groups `name` and `value` (optionally `step`).',
  'metrics.stepKeys': 'Keys that carry the step of a line; the first present wins.',
  'metrics.strategy': "How a trial's final value is chosen from its reports.",
  'metrics.strategies': 'Per-metric overrides of strategy.',
  'metrics.maxIntermediateValues': 'Intermediate values kept per trial; older points are thinned.',
  'metrics.maxLineLength': 'Output lines longer than this (characters) are skipped and counted, not parsed.',
  'metrics.prometheus.path': 'Path of the endpoint on the pod IP and port (mode scrape); starts with `/`.',
  'metrics.prometheus.intervalSeconds': 'Seconds between two reads of the endpoint or server (at least 0.5).',
  'metrics.prometheus.mode': "`scrape`: the trial pod's own endpoint; `query`: a Prometheus server.",
  'metrics.prometheus.port': "Port of the trial pod's metrics endpoint (mode scrape).",
  'metrics.prometheus.metricPrefix':
    'Prefix of the exported series: metric `val_loss` is read from `<prefix>val_loss`.',
  'metrics.prometheus.queries':
    'PromQL per metric (mode query); `${trial.name}`, `${trial.namespace}`, `${study.name}` are substituted.',
  'metrics.prometheus.url':
    "Prometheus HTTP API base URL (mode query); must match the operator's `--prometheus-url-allowlist`.",
  trialTimeoutSeconds: 'A trial running longer than this fails.',
  pendingTimeoutSeconds: "A trial whose pod stays unscheduled this long fails (e.g. GPUs that don't exist).",
  suspend: 'Pause: running trials finish, no new ones start.',
  'metrics.podSelector':
    "Labels of the pod whose logs or endpoint carry the metrics (default: completion index 0, or a JobSet's leader).",
  trialTemplate:
    'How a trial runs: a workload template, batch/v1 Job by default; `${params.NAME}` works in any string (docs/trial-workloads.md).',
  'trialTemplate.apiVersion':
    'With kind: the workload kind, e.g. `jobset.x-k8s.io/v1alpha2` (default `batch/v1`).',
  'trialTemplate.kind':
    "`Job` (default), `JobSet`, `TrainJob`, or any kind in the operator's trialKinds (then with CEL conditions).",
  'trialTemplate.successCondition':
    'CEL over the workload (`self`): the trial succeeded. Required for custom kinds.',
  'trialTemplate.failureCondition':
    'CEL over the workload (`self`): the trial failed. Required for custom kinds.',
  'trialTemplate.primaryContainerName':
    'Container whose logs carry the metrics (default: the first of the first pod template; TrainJob: `node`).',
  'trialTemplate.spec': "The workload's spec; fields not listed here pass through unchanged.",
  'trialTemplate.spec.template': "A Job's pod template (required for batch/v1 Job).",
};

export interface Row {
  path: string;
  type: string;
  required: boolean;
  default?: unknown;
  constraints: string[];
  description?: string;
}

function typeOf(s: Schema): string {
  if (s.anyOf) return s.anyOf.map(typeOf).join(' or ');
  if (s.enum) return 'enum';
  const t = Array.isArray(s.type) ? s.type.join(' or ') : (s.type ?? 'any');
  if (t === 'array' && s.items) return `${typeOf(s.items)}[]`;
  if (t === 'object' && !s.properties && typeof s.additionalProperties === 'object') {
    const v = typeOf(s.additionalProperties);
    return v === 'any' ? 'object' : `map of ${v}`;
  }
  return t;
}

function constraintsOf(s: Schema): string[] {
  const out: string[] = [];
  if (s.enum) out.push(s.enum.map((v) => `\`${String(v)}\``).join(', '));
  if (s.minimum !== undefined && s.minimum > Number.MIN_SAFE_INTEGER) out.push(`>= ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) out.push(`> ${s.exclusiveMinimum}`);
  // zod's .int() adds the safe-integer range; it says nothing to a reader.
  if (s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER) out.push(`<= ${s.maximum}`);
  if (s.exclusiveMaximum !== undefined) out.push(`< ${s.exclusiveMaximum}`);
  if (s.minLength !== undefined && s.minLength > 0) out.push(`length >= ${s.minLength}`);
  if (s.maxLength !== undefined) out.push(`length <= ${s.maxLength}`);
  if (s.minItems !== undefined && s.minItems > 0) out.push(`items >= ${s.minItems}`);
  if (s.maxItems !== undefined) out.push(`items <= ${s.maxItems}`);
  if (s.pattern) out.push(`pattern \`${s.pattern}\``);
  return out;
}

function walk(s: Schema, path: string, required: boolean, rows: Row[]): void {
  const row: Row = { path, type: typeOf(s), required, constraints: constraintsOf(s) };
  if (s.default !== undefined) row.default = s.default;
  const description = NOTES[path] ?? s.description;
  if (description) row.description = description;
  rows.push(row);
  walkChildren(s, path, rows);
}

function walkChildren(s: Schema, path: string, rows: Row[]): void {
  const prefix = path ? `${path}.` : '';
  for (const [name, child] of Object.entries(s.properties ?? {})) {
    walk(child, prefix + name, (s.required ?? []).includes(name), rows);
  }
  // An array of objects is described by its items' fields, listed under `path[]`.
  if (s.items?.properties) walkChildren(s.items, `${path}[]`, rows);
}

export function studyReferenceRows(): Row[] {
  const schema = z.toJSONSchema(StudySpec, { io: 'input', unrepresentable: 'any' }) as Schema;
  const rows: Row[] = [];
  walkChildren(schema, '', rows);
  return rows;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderStudyReference(): string {
  const lines = [
    '<!-- Generated from src/api by `npm run gen:docs` (scripts/gen-docs.ts). Do not edit. -->',
    '',
    '# Study reference',
    '',
    '`apiVersion: kubetune.io/v1alpha1`, `kind: Study`. Every field of `spec`, as `kubetune validate`,',
    'the local runner and the CRD check them. Fields marked **yes** are required; the others take',
    'the default shown or stay unset. Cross-field rules (for example "double and int parameters need',
    'both min and max") are reported by `kubetune validate` with the field they concern.',
    '',
    '| Field | Type | Required | Default | Constraints | Description |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of studyReferenceRows()) {
    const def = r.default === undefined ? '' : `\`${JSON.stringify(r.default)}\``;
    lines.push(
      `| \`spec.${r.path}\` | ${cell(r.type)} | ${r.required ? 'yes' : ''} | ${cell(def)} | ${cell(r.constraints.join('; '))} | ${cell(r.description ?? '')} |`,
    );
  }
  lines.push(
    '',
    'In `trialTemplate` command, args and env values, `${params.NAME}`, `${trial.name}`,',
    '`${trial.index}` and `${study.name}` are substituted without a shell; `$${` is a literal `${`.',
    '',
  );
  return lines.join('\n');
}
