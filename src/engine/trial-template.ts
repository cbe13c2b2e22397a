import type { ParameterType } from '../api/parameter.js';
import type { TemplateContainer, TrialTemplate } from '../api/trial-template.js';
import { substitute, wholePlaceholder, type PlaceholderValues } from '../api/placeholders.js';
import { asObj, builtinKind, isStringField, podTemplates, workloadType } from '../api/workload-kinds.js';

export interface TrialIdentity {
  study: string;
  name: string;
  index: number;
  params: Record<string, string>;
  /** Parameter types: a field that is wholly `${params.NAME}` of a number parameter becomes a number. */
  types?: Record<string, ParameterType>;
}

/** `<study>-<index>`: deterministic so that creating a trial twice collides instead of duplicating. */
export function trialName(study: string, index: number): string {
  return `${study}-${index}`;
}

/** What an optional `${params.NAME?}` of an inactive parameter renders to: the field is dropped. */
const DROPPED = Symbol('dropped');

/** A whole-field placeholder keeps its value's type (outside string fields): `replicas: ${params.workers}` is a number. */
function typedValue(expr: string, values: PlaceholderValues, types: Record<string, ParameterType>): unknown {
  if (expr === 'trial.index') return values.trial.index;
  const type = expr.startsWith('params.')
    ? types[expr.slice('params.'.length).replace(/\?$/, '')]
    : undefined;
  const text = substitute(`\${${expr}}`, values);
  if (text === undefined) return DROPPED;
  return type === 'int' || type === 'double' ? Number(text) : text;
}

interface Rendering {
  values: PlaceholderValues;
  types: Record<string, ParameterType>;
}

/**
 * Renders one value. An optional placeholder of an inactive parameter drops what holds it: a list
 * item (`--momentum=${params.momentum?}` in args), an object field, or, for an env variable's
 * value, the whole variable.
 */
function render(value: unknown, r: Rendering, path: (string | number)[]): unknown {
  if (typeof value === 'string') {
    const whole = isStringField(path) ? undefined : wholePlaceholder(value);
    return whole === undefined
      ? (substitute(value, r.values) ?? DROPPED)
      : typedValue(whole, r.values, r.types);
  }
  if (Array.isArray(value))
    return value.map((v, i) => render(v, r, [...path, i])).filter((v) => v !== DROPPED);
  const o = asObj(value);
  if (!o) return value;
  const out: Record<string, unknown> = {};
  // Keys stay as written: validation refuses placeholders in them.
  for (const [k, v] of Object.entries(o)) {
    const rendered = render(v, r, [...path, k]);
    if (rendered !== DROPPED) out[k] = rendered;
    else if (k === 'value' && path[path.length - 2] === 'env') return DROPPED;
  }
  return out;
}

/** The template's metadata and spec for one trial, every placeholder replaced. */
export function renderWorkload(
  template: TrialTemplate,
  trial: TrialIdentity,
): Pick<TrialTemplate, 'metadata' | 'spec'> {
  const values: PlaceholderValues = {
    params: trial.params,
    trial: { name: trial.name, index: trial.index },
    study: { name: trial.study },
  };
  const r: Rendering = { values, types: trial.types ?? {} };
  return {
    ...(template.metadata
      ? { metadata: render(template.metadata, r, ['metadata']) as TrialTemplate['metadata'] }
      : {}),
    spec: render(template.spec, r, ['spec']) as TrialTemplate['spec'],
  };
}

/**
 * The container whose output carries the metrics: primaryContainerName, else the first container
 * of the first pod template (a JobSet's first replicated job: its leader). A kind whose pods are
 * described elsewhere (TrainJob) has only a name.
 */
export function primaryContainer(template: TrialTemplate, spec: unknown = template.spec): TemplateContainer {
  const type = workloadType(template);
  const containers = podTemplates(type, spec).flatMap(
    (p) => (asObj(p.template['spec'])?.['containers'] as TemplateContainer[] | undefined) ?? [],
  );
  const wanted =
    template.primaryContainerName ??
    (containers.length === 0 ? builtinKind(type)?.defaultContainer : undefined);
  const found =
    wanted === undefined
      ? containers[0]
      : (containers.find((c) => c.name === wanted) ??
        (containers.length === 0 ? { name: wanted } : undefined));
  if (!found) throw new Error(`trialTemplate has no container named ${wanted}`);
  return found;
}
