/**
 * `${params.NAME}`, `${trial.name}`, `${trial.index}` and `${study.name}` in any string of a trial
 * template (template-placeholders.ts says where they may not stand). Substitution is plain string
 * replacement (no shell), so a value can never inject extra arguments. `$${` escapes a literal `${`.
 *
 * A conditional parameter (one with `when`) may be inactive, and then has no value. It can only
 * be written `${params.NAME?}`: when NAME is inactive, the list item, field or env variable that
 * holds it is dropped, so an args item `--momentum=${params.momentum?}` disappears for adam.
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

/** The study's parameters as placeholders see them: every name, and which ones are conditional. */
export interface PlaceholderParameters {
  names: ReadonlySet<string>;
  conditional: ReadonlySet<string>;
}

/** `params.NAME?` → { name: NAME, optional: true }; undefined when expr is not a params placeholder. */
function paramRef(expr: string): { name: string; optional: boolean } | undefined {
  if (!expr.startsWith('params.')) return undefined;
  const optional = expr.endsWith('?');
  return { name: expr.slice('params.'.length, optional ? -1 : undefined), optional };
}

/** Why a placeholder cannot be resolved, or undefined when it can. */
export function checkPlaceholder(expr: string, parameters: PlaceholderParameters): string | undefined {
  if (expr === 'trial.name' || expr === 'trial.index' || expr === 'study.name') return undefined;
  const ref = paramRef(expr);
  if (ref) {
    if (!parameters.names.has(ref.name)) {
      const known = [...parameters.names].join(', ') || 'none';
      return `\${${expr}} names unknown parameter "${ref.name}" (parameters: ${known})`;
    }
    if (parameters.conditional.has(ref.name) && !ref.optional)
      return `\${${expr}} names conditional parameter "${ref.name}", which has no value while its "when" does not hold: write \${params.${ref.name}?} to drop the whole item (or env variable) in that case, e.g. "--${ref.name}=\${params.${ref.name}?}"`;
    return undefined;
  }
  return `\${${expr}} is not a known placeholder (use \${params.NAME}, \${params.NAME?}, \${trial.name}, \${trial.index} or \${study.name})`;
}

/**
 * The text with its placeholders replaced; undefined when an optional `${params.NAME?}` names a
 * parameter the trial does not have (inactive), meaning the caller drops the whole item.
 */
export function substitute(text: string, values: PlaceholderValues): string | undefined {
  let out = '';
  for (const p of parts(text)) {
    if ('text' in p) {
      out += p.text;
      continue;
    }
    const v = resolve(p.expr, values);
    if (v === undefined) return undefined;
    out += v;
  }
  return out;
}

function resolve(expr: string, values: PlaceholderValues): string | undefined {
  if (expr === 'trial.name') return values.trial.name;
  if (expr === 'trial.index') return String(values.trial.index);
  if (expr === 'study.name') return values.study.name;
  const ref = paramRef(expr);
  if (ref) {
    const v = values.params[ref.name];
    if (v !== undefined || ref.optional) return v;
  }
  // Validation rejects these before a trial exists; reaching here is a programming error.
  throw new Error(`cannot substitute \${${expr}}`);
}
