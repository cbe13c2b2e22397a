import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { FieldError } from './errors.js';
import { formatZodError } from './errors.js';
import { StudyManifest } from './study.js';

export interface LocatedError extends FieldError {
  line?: number;
}

export type ManifestResult = { ok: true; study: StudyManifest } | { ok: false; errors: LocatedError[] };

/** Line of the deepest node on `path` that exists, so a missing field points at its parent. */
function lineOf(doc: Document, counter: LineCounter, path: readonly PropertyKey[]): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as (string | number)[], true) as
      { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}

/**
 * Parses a Study manifest (one Study among possibly several YAML documents) and reports every
 * problem with its field path and line, so `kubetune validate` can point at the exact spot.
 */
export function parseStudyManifest(text: string): ManifestResult {
  const counter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: counter, prettyErrors: false });
  if (!Array.isArray(docs)) return { ok: false, errors: [{ path: '(root)', message: 'empty document' }] };
  const syntax = docs.flatMap((d) => d.errors);
  if (syntax.length > 0) {
    return {
      ok: false,
      errors: syntax.map((e) => ({
        path: '(yaml)',
        message: e.message.split('\n')[0] ?? e.message,
        line: counter.linePos(e.pos[0]).line,
      })),
    };
  }
  const studies = docs.filter((d) => {
    const js: unknown = d.toJS();
    return js !== null && typeof js === 'object' && (js as { kind?: unknown }).kind === 'Study';
  });
  if (studies.length !== 1) {
    const kinds = docs
      .map((d) => String((d.toJS() as { kind?: unknown } | null)?.kind ?? 'no kind'))
      .join(', ');
    return {
      ok: false,
      errors: [
        {
          path: 'kind',
          message:
            studies.length === 0
              ? `no document has kind: Study (found: ${kinds || 'nothing'})`
              : 'more than one Study in the file',
        },
      ],
    };
  }
  const doc = studies[0] as Document;
  const parsed = StudyManifest.safeParse(doc.toJS(), { reportInput: true });
  if (parsed.success) return { ok: true, study: parsed.data };
  const errors = parsed.error.issues.map((issue, i) => {
    const formatted = formatZodError({ issues: [issue] } as never)[0] ?? {
      path: String(i),
      message: issue.message,
    };
    return { ...formatted, line: lineOf(doc, counter, issue.path) };
  });
  return { ok: false, errors };
}
