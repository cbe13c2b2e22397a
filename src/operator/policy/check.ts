import type { TrialTemplate } from '../../api/trial-template.js';
import {
  builtinKind,
  podSpecOf,
  podTemplates,
  typeName,
  workloadType,
  type PodTemplateAt,
} from '../../api/workload-kinds.js';
import {
  BASELINE_RULES,
  DEFAULT_POD_POLICY,
  SERVICE_ACCOUNT_FIELDS,
  SERVICE_ACCOUNT_REASON,
  type PodPolicySettings,
  type Probe,
  type Refusal,
} from './rules.js';

type Obj = Record<string, unknown>;

export interface PodPolicyViolation {
  rule: string;
  /** Field path from the Study, e.g. `spec.trialTemplate.spec.template.spec.hostNetwork`. */
  path: string;
  /** What was found there and why it is refused. */
  message: string;
}

export const TEMPLATE_PATH = 'spec.trialTemplate.spec.template';
export const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

const asObj = (v: unknown): Obj | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** A field is present when its key exists, as CEL's has() sees it. */
function lookup(root: unknown, dotted: string): { found: boolean; value?: unknown } {
  let cur: unknown = root;
  for (const key of dotted.split('.')) {
    const o = asObj(cur);
    if (!o || !(key in o)) return { found: false };
    cur = o[key];
  }
  return { found: true, value: cur };
}

/** The offending part of `value`, described, or undefined when the probe lets it pass. */
function refused(refuse: Refusal, value: unknown): string | undefined {
  switch (refuse.kind) {
    case 'true':
      return value === true ? 'is true' : undefined;
    case 'set':
      return 'is set';
    case 'nonEmpty':
      return value !== '' ? `is ${JSON.stringify(value)}` : undefined;
    case 'nonZero':
      return value !== 0 ? `is ${JSON.stringify(value)}` : undefined;
    case 'oneOf':
      return refuse.values.includes(value as string) ? `is ${JSON.stringify(value)}` : undefined;
    case 'notAllowed': {
      const ok =
        refuse.values.includes(value as string) ||
        (typeof value === 'string' && (refuse.prefixes ?? []).some((p) => value.startsWith(p)));
      return ok ? undefined : `is ${JSON.stringify(value)}`;
    }
    case 'itemsNotAllowed': {
      const items = asList(value).map((i) => (refuse.key ? asObj(i)?.[refuse.key] : i));
      const bad = items.filter((i) => !refuse.values.includes(i as string));
      return bad.length > 0 ? `has ${bad.map(String).join(', ')}` : undefined;
    }
  }
}

interface Target {
  /** Path of the object, relative to TEMPLATE_PATH. */
  path: string;
  object: unknown;
}

function containers(pod: Obj): Target[] {
  return CONTAINER_LISTS.flatMap((list) =>
    asList(pod[list]).map((c, i) => ({ path: `spec.${list}[${i}]`, object: c })),
  );
}

function targets(probe: Probe, template: Obj, pod: Obj): Target[] {
  const scope = probe.scope;
  if (scope === 'pod') return [{ path: 'spec', object: pod }];
  if (scope === 'container') return containers(pod);
  if (scope === 'volume')
    return asList(pod['volumes']).map((v, i) => ({ path: `spec.volumes[${i}]`, object: v }));
  if (scope === 'port') {
    return containers(pod).flatMap((c) =>
      asList(asObj(c.object)?.['ports']).map((p, j) => ({ path: `${c.path}.ports[${j}]`, object: p })),
    );
  }
  const annotations = asObj(asObj(template['metadata'])?.['annotations']) ?? {};
  return Object.keys(annotations)
    .filter((k) => k.startsWith(scope.annotationPrefix))
    .map((k) => ({ path: `metadata.annotations[${JSON.stringify(k)}]`, object: annotations[k] }));
}

function probeViolations(probe: Probe, template: Obj, pod: Obj): { path: string; found: string }[] {
  const out: { path: string; found: string }[] = [];
  for (const t of targets(probe, template, pod)) {
    const annotation = typeof probe.scope === 'object';
    const { found, value } = annotation ? { found: true, value: t.object } : lookup(t.object, probe.field);
    if (!found) continue;
    const what = refused(probe.refuse, value);
    if (what) out.push({ path: annotation ? t.path : `${t.path}.${probe.field}`, found: what });
  }
  return out;
}

function serviceAccountViolations(
  pod: Obj,
  allowed: readonly string[],
  base: string,
  complete: boolean,
): PodPolicyViolation[] {
  if (allowed.includes('*')) return [];
  const named = SERVICE_ACCOUNT_FIELDS.filter((f) => pod[f] !== undefined && pod[f] !== '');
  const why = `${SERVICE_ACCOUNT_REASON} (allowed: ${allowed.join(', ') || 'none'})`;
  // A partial pod spec (TrainJob override) that names none leaves the runtime's in place.
  if (named.length === 0) {
    if (allowed.includes('default') || !complete) return [];
    const path = `${base}.spec.serviceAccountName`;
    return [
      { rule: 'service-account', path, message: `${path} is unset, so the pod runs as "default": ${why}` },
    ];
  }
  return named
    .filter((f) => !allowed.includes(pod[f] as string))
    .map((f) => {
      const path = `${base}.spec.${f}`;
      return { rule: 'service-account', path, message: `${path} is ${JSON.stringify(pod[f])}: ${why}` };
    });
}

/** `spec.trialTemplate.spec.template` and the like: where a found pod template is, for messages. */
function templatePath(path: (string | number)[]): string {
  return ['spec.trialTemplate', ...path]
    .map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`))
    .join('');
}

/** Every way one pod template breaks the policy. */
function templateViolations(found: PodTemplateAt, settings: PodPolicySettings): PodPolicyViolation[] {
  const base = templatePath(found.path);
  // Probes address the pod spec as `spec`; a partial override is its own pod spec.
  const podTemplate = found.complete ? found.template : { spec: found.template };
  const pod = podSpecOf(found);
  const out = serviceAccountViolations(pod, settings.allowedServiceAccounts, base, found.complete);
  if (settings.profile !== 'baseline') return out;
  for (const rule of BASELINE_RULES) {
    for (const probe of rule.probes) {
      for (const v of probeViolations(probe, podTemplate, pod)) {
        const path = found.complete ? `${base}.${v.path}` : `${base}${v.path.replace(/^spec/, '')}`;
        out.push({ rule: rule.id, path, message: `${path} ${v.found}: ${rule.reason}` });
      }
    }
  }
  return out;
}

/**
 * Every way the trial's pod templates break the policy; empty when they pass. Every pod template
 * of the workload is checked (a JobSet's replicated jobs, a TrainJob's podSpecOverrides, and for
 * other kinds the templates found by their shape). A kind with no pod template kubetune can find
 * cannot be checked, so it is refused unless the policy allows anything.
 */
export function podPolicyViolations(
  template: TrialTemplate,
  settings: PodPolicySettings = DEFAULT_POD_POLICY,
): PodPolicyViolation[] {
  const type = workloadType(template);
  const found = podTemplates(type, template.spec);
  const unrestricted = settings.profile !== 'baseline' && settings.allowedServiceAccounts.includes('*');
  if (found.length === 0 && !builtinKind(type) && !unrestricted) {
    const path = 'spec.trialTemplate.spec';
    return [
      {
        rule: 'pod-template',
        path,
        message: `${path}: no pod template (an object whose spec has containers) was found in this ${typeName(type)}, so its pods cannot be checked against the trial pod policy; only an operator whose policy allows anything (privileged, ServiceAccounts "*") runs such kinds`,
      },
    ];
  }
  return found.flatMap((f) => templateViolations(f, settings));
}

/** Violations spelled out in one refusal; a template with thousands must not bloat the status. */
const MAX_REPORTED = 5;

/** One line for a Study's InvalidSpec condition, or undefined when the template passes. */
export function podPolicyRefusal(template: TrialTemplate, settings?: PodPolicySettings): string | undefined {
  const violations = podPolicyViolations(template, settings);
  if (violations.length === 0) return undefined;
  const shown = violations.slice(0, MAX_REPORTED).map((v) => v.message);
  const more = violations.length - shown.length;
  return shown.join('; ') + (more > 0 ? `; and ${more} more` : '');
}
