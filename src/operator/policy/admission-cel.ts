/**
 * Compiles the pod policy in ./rules.ts to the CEL of the chart's ValidatingAdmissionPolicy.
 * `npm run gen:crds` writes the result into the chart as named templates; the chart's policy
 * template supplies `variables.profile` and `variables.allowedServiceAccounts` from its values.
 */
import { stringify } from 'yaml';
import { JOB } from '../../api/workload-kinds.js';
import { CONTAINER_LISTS, TEMPLATE_PATH } from './check.js';
import {
  BASELINE_RULES,
  SERVICE_ACCOUNT_FIELDS,
  SERVICE_ACCOUNT_REASON,
  type PodRule,
  type Probe,
  type Refusal,
} from './rules.js';

export interface CelVariable {
  name: string;
  expression: string;
}

export interface CelValidation {
  expression: string;
  messageExpression: string;
  /** Shown when messageExpression cannot be evaluated. */
  message: string;
  reason: 'Forbidden';
}

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const celList = (values: readonly string[]) => `[${values.map(quote).join(', ')}]`;
const orEmpty = (guard: string, list: string) => `(${guard} ? ${list} : [])`;

const podSpec = 'variables.podSpec';

/** `has()` for every step of a dotted path, so a missing parent is "absent", not an error. */
function celHas(root: string, dotted: string): string {
  const parts = dotted.split('.');
  return parts.map((_, i) => `has(${root}.${parts.slice(0, i + 1).join('.')})`).join(' && ');
}

function celRefused(refuse: Refusal, x: string): string {
  switch (refuse.kind) {
    case 'true':
      return `${x} == true`;
    case 'set':
      return 'true';
    case 'nonEmpty':
      return `${x} != ''`;
    case 'nonZero':
      return `${x} != 0`;
    case 'oneOf':
      return `${x} in ${celList(refuse.values)}`;
    case 'notAllowed': {
      const prefixes = (refuse.prefixes ?? []).map((p) => ` || ${x}.startsWith(${quote(p)})`).join('');
      return `!(${x} in ${celList(refuse.values)}${prefixes})`;
    }
    case 'itemsNotAllowed': {
      const item = refuse.key ? `i.${refuse.key}` : 'i';
      return `${x}.exists(i, !(${item} in ${celList(refuse.values)}))`;
    }
  }
}

/** CEL string describing what was found, matching the operator's wording. */
function celFound(refuse: Refusal, x: string): string {
  switch (refuse.kind) {
    case 'true':
      return "'is true'";
    case 'set':
      return "'is set'";
    case 'nonZero':
      return `'is ' + string(${x})`;
    case 'itemsNotAllowed': {
      const item = refuse.key ? `i.${refuse.key}` : 'i';
      return `'has ' + ${x}.filter(i, !(${item} in ${celList(refuse.values)})).map(i, string(${item})).join(', ')`;
    }
    default:
      return `'is "' + string(${x}) + '"'`;
  }
}

/** `ok`: true when the probe passes; `found`: CEL list of strings naming each offence. */
function celProbe(probe: Probe): { ok: string; found: string } {
  const { field, refuse, scope } = probe;
  const bad = (root: string) =>
    refuse.kind === 'set'
      ? celHas(root, field)
      : `${celHas(root, field)} && ${celRefused(refuse, `${root}.${field}`)}`;
  const says = (root: string) => `${quote(` ${field} `)} + ${celFound(refuse, `${root}.${field}`)}`;
  if (scope === 'pod') {
    return {
      ok: `!(${bad(podSpec)})`,
      found: `(${bad(podSpec)} ? ['spec.${field} ' + ${celFound(refuse, `${podSpec}.${field}`)}] : [])`,
    };
  }
  if (scope === 'container') {
    return {
      ok: `!variables.containers.exists(c, ${bad('c')})`,
      found: `variables.containers.filter(c, ${bad('c')}).map(c, 'container "' + c.name + '"' + ${says('c')})`,
    };
  }
  if (scope === 'volume') {
    const volumes = `${podSpec}.volumes`;
    return {
      ok: `!(has(${volumes}) && ${volumes}.exists(v, ${bad('v')}))`,
      found: orEmpty(
        `has(${volumes})`,
        `${volumes}.filter(v, ${bad('v')}).map(v, 'volume "' + v.name + '"' + ${says('v')})`,
      ),
    };
  }
  if (scope === 'port') {
    const withBadPort = `has(c.ports) && c.ports.exists(p, ${bad('p')})`;
    return {
      ok: `!variables.containers.exists(c, ${withBadPort})`,
      found: `variables.containers.filter(c, ${withBadPort}).map(c, 'container "' + c.name + '"' + c.ports.filter(p, ${bad('p')}).map(p, ${says('p')}).join(','))`,
    };
  }
  const bad2 = `k.startsWith(${quote(scope.annotationPrefix)}) && ${celRefused(refuse, 'variables.annotations[k]')}`;
  return {
    ok: `!variables.annotations.exists(k, ${bad2})`,
    found: `variables.annotations.filter(k, ${bad2}).map(k, 'metadata.annotations["' + k + '"] ' + ${celFound(refuse, 'variables.annotations[k]')})`,
  };
}

function ruleValidation(rule: PodRule): CelValidation {
  const probes = rule.probes.map(celProbe);
  return {
    expression: `variables.profile != 'baseline' || (${probes.map((p) => p.ok).join(' && ')})`,
    messageExpression: `${quote(`${TEMPLATE_PATH}: `)} + (${probes.map((p) => p.found).join(' + ')}).join('; ') + ${quote(`: ${rule.reason}`)}`,
    message: `${TEMPLATE_PATH}: ${rule.reason}`,
    reason: 'Forbidden',
  };
}

const namedServiceAccounts = SERVICE_ACCOUNT_FIELDS.map((f) =>
  orEmpty(`has(${podSpec}.${f}) && ${podSpec}.${f} != ''`, `[${podSpec}.${f}]`),
).join(' + ');

/** Variables the validations read, after the chart's `profile` and `allowedServiceAccounts`. */
export const POLICY_VARIABLES: CelVariable[] = [
  // The trial's kind as workloadType() reads it; the chart's kind checks read these too.
  {
    name: 'trialApiVersion',
    expression: `has(object.spec.trialTemplate.apiVersion) ? object.spec.trialTemplate.apiVersion : ${quote(JOB.apiVersion)}`,
  },
  {
    name: 'trialKind',
    expression: `has(object.spec.trialTemplate.kind) ? object.spec.trialTemplate.kind : ${quote(JOB.kind)}`,
  },
  // Other kinds lay their pod templates out in their own ways; the operator checks those.
  {
    name: 'jobTemplate',
    expression: `variables.trialApiVersion == ${quote(JOB.apiVersion)} && variables.trialKind == ${quote(JOB.kind)}`,
  },
  { name: 'template', expression: 'object.spec.trialTemplate.spec.template' },
  { name: 'podSpec', expression: 'variables.template.spec' },
  {
    name: 'containers',
    expression: CONTAINER_LISTS.map((l) =>
      l === 'containers' ? `${podSpec}.${l}` : orEmpty(`has(${podSpec}.${l})`, `${podSpec}.${l}`),
    ).join(' + '),
  },
  {
    name: 'annotations',
    expression:
      '(has(variables.template.metadata) && has(variables.template.metadata.annotations)) ? variables.template.metadata.annotations : {}',
  },
  // A pod that names no ServiceAccount runs as "default".
  {
    name: 'serviceAccounts',
    expression: `size(${namedServiceAccounts}) == 0 ? ['default'] : ${namedServiceAccounts}`,
  },
];

const serviceAccountValidation: CelValidation = {
  expression:
    "'*' in variables.allowedServiceAccounts || variables.serviceAccounts.all(s, s in variables.allowedServiceAccounts)",
  messageExpression: `${quote(`${TEMPLATE_PATH}.spec: the pod would run as ServiceAccount `)} + variables.serviceAccounts.filter(s, !(s in variables.allowedServiceAccounts)).map(s, '"' + s + '"').join(', ') + ${quote(`: ${SERVICE_ACCOUNT_REASON} (allowed: `)} + variables.allowedServiceAccounts.join(', ') + ')'`,
  message: `${TEMPLATE_PATH}.spec: ${SERVICE_ACCOUNT_REASON}`,
  reason: 'Forbidden',
};

/** Only a Job's template is checked here; variables are evaluated lazily, so others never read it. */
const forJobs = (v: CelValidation): CelValidation => ({
  ...v,
  expression: `!variables.jobTemplate || (${v.expression})`,
});

/** One validation per rule, named by the rule id the operator reports (PodPolicyViolation.rule). */
export const POLICY_VALIDATIONS: { rule: string; validation: CelValidation }[] = [
  { rule: 'service-account', validation: forJobs(serviceAccountValidation) },
  ...BASELINE_RULES.map((r) => ({ rule: r.id, validation: forJobs(ruleValidation(r)) })),
];

/** Where `npm run gen:crds` writes renderPolicyTemplate(), relative to the repository root. */
export const POLICY_TEMPLATE_FILE = 'deploy/helm/kubetune/templates/_trial-pod-policy.tpl';

const HEADER = '{{/* Generated from src/operator/policy by `npm run gen:crds`. Do not edit. */}}';

/**
 * The chart's `_trial-pod-policy.tpl`: the variables and validations as named templates, for
 * templates/admission-policy.yaml to include.
 */
export function renderPolicyTemplate(): string {
  const block = (name: string, items: unknown[]) => {
    const text = stringify(items, { lineWidth: 0 }).trimEnd();
    // CEL never needs "{{" or "}}"; if it ever did, Helm would read it as template syntax.
    if (text.includes('{{') || text.includes('}}')) throw new Error(`${name}: CEL contains {{ or }}`);
    return `{{- define "${name}" -}}\n${text}\n{{- end }}`;
  };
  return [
    HEADER,
    block('kubetune.trialPodPolicy.variables', POLICY_VARIABLES),
    block(
      'kubetune.trialPodPolicy.validations',
      POLICY_VALIDATIONS.map((v) => v.validation),
    ),
    '',
  ].join('\n');
}
