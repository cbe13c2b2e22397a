/**
 * `${params.NAME}`, `${trial.name}`, `${trial.index}` and `${study.name}` in any string of a trial
 * template (see template-placeholders.ts for where they may not stand). Substitution is plain string replacement (no shell), so a value
 * can never inject extra arguments. `$${` escapes a literal `${`.
 */
type Part = { text: string } | { expr: string };

/**
 * Splits a template string into literal text and placeholder expressions in one pass. A
 * placeholder runs from `${` to the next `}`; without a later `}` the rest is literal. (The
 * regex this replaces retried the search for `}` at every `${`, quadratic on 40 KB of `${`.)
 */
function parts(text: string): Part[] {
  const out: Part[] = [];
  let literal = 0;
  // The first `}` after the current `{`: it only moves forward, so the text is read once.
  let close = -1;
  for (let i = text.indexOf('$'); i >= 0; i = text.indexOf('$', i)) {
    const escaped = text[i + 1] === '$' && text[i + 2] === '{';
    const open = escaped ? i + 2 : text[i + 1] === '{' ? i + 1 : -1;
    if (open < 0) {
      i++;
      continue;
    }
    if (close < open) close = text.indexOf('}', open + 1);
    if (close < 0) break;
    if (literal < i) out.push({ text: text.slice(literal, i) });
    out.push(escaped ? { text: text.slice(i + 1, close + 1) } : { expr: text.slice(open + 1, close) });
    literal = i = close + 1;
  }
  if (literal < text.length) out.push({ text: text.slice(literal) });
  return out;
}

export interface PlaceholderValues {
  params: Record<string, string>;
  trial: { name: string; index: number };
  study: { name: string };
}

export function placeholdersIn(text: string): string[] {
  return parts(text).flatMap((p) => ('expr' in p ? [p.expr] : []));
}

/** The placeholder a string consists of, alone and whole (`${params.workers}`); else undefined. */
export function wholePlaceholder(text: string): string | undefined {
  if (!text.startsWith('${') || !text.endsWith('}')) return undefined;
  const all = parts(text);
  const only = all.length === 1 ? all[0] : undefined;
  return only && 'expr' in only ? only.expr : undefined;
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
  return parts(text)
    .map((p) => ('expr' in p ? resolve(p.expr, values) : p.text))
    .join('');
}

function resolve(expr: string, values: PlaceholderValues): string {
  if (expr === 'trial.name') return values.trial.name;
  if (expr === 'trial.index') return String(values.trial.index);
  if (expr === 'study.name') return values.study.name;
  if (expr.startsWith('params.')) {
    const v = values.params[expr.slice('params.'.length)];
    if (v !== undefined) return v;
  }
  // Validation rejects these before a trial exists; reaching here is a programming error.
  throw new Error(`cannot substitute \${${expr}}`);
}
