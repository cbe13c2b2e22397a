/**
 * `${params.NAME}`, `${trial.name}`, `${trial.index}` and `${study.name}` in a trial template's
 * command, args and env values. Substitution is plain string replacement (no shell), so a value
 * can never inject extra arguments. `$${` escapes a literal `${`.
 */
const PLACEHOLDER = /\$(\$?)\{([^}]*)\}/g;

export interface PlaceholderValues {
  params: Record<string, string>;
  trial: { name: string; index: number };
  study: { name: string };
}

export function placeholdersIn(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(PLACEHOLDER)) if (m[1] === '') found.push(m[2] ?? '');
  return found;
}

/** Why a placeholder cannot be resolved, or undefined when it can. */
export function checkPlaceholder(expr: string, parameterNames: ReadonlySet<string>): string | undefined {
  if (expr === 'trial.name' || expr === 'trial.index' || expr === 'study.name') return undefined;
  if (expr.startsWith('params.')) {
    const name = expr.slice('params.'.length);
    if (parameterNames.has(name)) return undefined;
    const known = [...parameterNames].join(', ') || 'none';
    return `\${${expr}} names unknown parameter "${name}" (parameters: ${known})`;
  }
  return `\${${expr}} is not a known placeholder (use \${params.NAME}, \${trial.name}, \${trial.index} or \${study.name})`;
}

export function substitute(text: string, values: PlaceholderValues): string {
  return text.replace(PLACEHOLDER, (whole, escape: string, expr: string) => {
    if (escape) return whole.slice(1);
    if (expr === 'trial.name') return values.trial.name;
    if (expr === 'trial.index') return String(values.trial.index);
    if (expr === 'study.name') return values.study.name;
    if (expr.startsWith('params.')) {
      const v = values.params[expr.slice('params.'.length)];
      if (v !== undefined) return v;
    }
    // Validation rejects these before a trial exists; reaching here is a programming error.
    throw new Error(`cannot substitute \${${expr}}`);
  });
}
