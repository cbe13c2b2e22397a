import type { ParameterSpec } from './parameter.js';
import {
  checkPlaceholder,
  placeholdersIn,
  wholePlaceholder,
  type PlaceholderParameters,
} from './placeholders.js';
import { asObj, isIntegerField, workloadType, type WorkloadType } from './workload-kinds.js';

/** Deeper templates are refused: walking them would risk the operator's stack. */
export const MAX_TEMPLATE_DEPTH = 64;

export interface TemplateIssue {
  /** Relative to the trial template. */
  path: (string | number)[];
  message: string;
}

/** Fields that name objects or parts of them: DNS names, which a parameter's value need not be. */
const NAME_FIELDS = new Set(['name', 'generateName', 'namespace']);

interface Scan {
  type: WorkloadType;
  params: Map<string, ParameterSpec>;
  refs: PlaceholderParameters;
  out: TemplateIssue[];
}

/** Where the placeholders of a string may not stand, or what they would turn it into. */
function contextProblem(
  scan: Scan,
  path: (string | number)[],
  text: string,
  exprs: string[],
): string | undefined {
  const key = path[path.length - 1];
  const parent = path[path.length - 2];
  const usesParams = exprs.some((e) => e.startsWith('params.'));
  if (parent === 'metadata' && NAME_FIELDS.has(String(key)))
    return `placeholders cannot be used in metadata.${String(key)}: kubetune or the workload's controller names this object`;
  if (usesParams && typeof key === 'string' && NAME_FIELDS.has(key))
    return `\${params.*} cannot be used in a ${key} field: it must be a DNS name, which a parameter's value need not be (\${trial.name}, \${trial.index} and \${study.name} can)`;
  if (usesParams && path[path.length - 3] === 'metadata' && parent === 'labels')
    return "${params.*} cannot be used in a label value: a parameter's value need not be a valid one; use an annotation";
  if (path[0] === 'spec' && isIntegerField(scan.type, path.slice(1))) return integerProblem(scan, text);
  return undefined;
}

/** An integer field takes a placeholder only whole, and only one that yields a whole number. */
function integerProblem(scan: Scan, text: string): string | undefined {
  const whole = wholePlaceholder(text);
  const wants =
    'this field must be an integer, so it takes a whole-field ${params.NAME} of an int parameter or ${trial.index}';
  if (whole === undefined) return `${wants}, not text around a placeholder`;
  if (whole === 'trial.index') return undefined;
  const param = whole.startsWith('params.')
    ? scan.params.get(whole.slice('params.'.length).replace(/\?$/, ''))
    : undefined;
  if (param && param.type !== 'int') return `${wants}; ${param.name} is a ${param.type} parameter`;
  if (!param && !whole.startsWith('params.')) return `${wants}; \${${whole}} is a name`;
  return undefined;
}

function scanString(scan: Scan, path: (string | number)[], text: string): void {
  const exprs = placeholdersIn(text);
  if (exprs.length === 0) return;
  for (const expr of exprs) {
    const problem = checkPlaceholder(expr, scan.refs);
    if (problem) scan.out.push({ path, message: problem });
  }
  const problem = contextProblem(scan, path, text, exprs);
  if (problem) scan.out.push({ path, message: problem });
}

function scanValue(scan: Scan, path: (string | number)[], value: unknown): void {
  if (path.length > MAX_TEMPLATE_DEPTH) {
    scan.out.push({ path, message: `is nested deeper than ${MAX_TEMPLATE_DEPTH} levels` });
    return;
  }
  if (typeof value === 'string') return scanString(scan, path, value);
  if (Array.isArray(value)) return value.forEach((v, i) => scanValue(scan, [...path, i], v));
  const o = asObj(value);
  if (!o) return;
  for (const [k, v] of Object.entries(o)) {
    if (placeholdersIn(k).length > 0)
      scan.out.push({ path: [...path, k], message: 'placeholders cannot be used in keys, only in values' });
    scanValue(scan, [...path, k], v);
  }
}

/**
 * Every placeholder in the template's metadata and spec that cannot be resolved, or stands where
 * Kubernetes would refuse what it turns into. One pass over the template; each string is read
 * once (placeholdersIn is linear).
 */
export function templatePlaceholderProblems(
  template: { apiVersion?: string | undefined; kind?: string | undefined; metadata?: unknown; spec: unknown },
  parameters: ParameterSpec[],
): TemplateIssue[] {
  const scan: Scan = {
    type: workloadType(template),
    params: new Map(parameters.map((p) => [p.name, p])),
    refs: {
      names: new Set(parameters.map((p) => p.name)),
      conditional: new Set(parameters.filter((p) => p.when).map((p) => p.name)),
    },
    out: [],
  };
  if (template.metadata !== undefined) scanValue(scan, ['metadata'], template.metadata);
  scanValue(scan, ['spec'], template.spec);
  return scan.out;
}
