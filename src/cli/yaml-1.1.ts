import {
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  visit,
  type Document,
  type Node,
  type Pair,
  type Scalar,
  type Tags,
} from 'yaml';

/** A plain (unquoted) scalar that kubectl reads differently from kubetune. */
export interface Yaml11Difference {
  line: number;
  /** Field path of the value, or of the mapping whose key it is. */
  path: string;
  /** The scalar as written, with `key ` in front when it is a mapping key. */
  what: string;
  message: string;
}

/**
 * kubectl reads YAML 1.1 (go-yaml v2 behind sigs.k8s.io/yaml), which has no timestamps or
 * base-60 numbers in untyped values; the yaml package's 1.1 schema without those tags reads
 * scalars as kubectl does.
 */
const kubectlTags = (tags: Tags): Tags =>
  tags.filter(
    (t) =>
      typeof t === 'string' ||
      (t.tag !== 'tag:yaml.org,2002:timestamp' && !('format' in t && t.format === 'TIME')),
  );

interface PlainScalar {
  node: Scalar;
  chain: readonly unknown[];
}

function plainScalars(docs: readonly Document[]): PlainScalar[] {
  const found: PlainScalar[] = [];
  for (const doc of docs) {
    visit(doc, {
      Scalar(_key, node, path) {
        if (node.type === 'PLAIN') found.push({ node, chain: [...path, node] });
      },
    });
  }
  return found;
}

/** `spec.parameters[0].name` for a value; for a mapping key, the path of its mapping. */
function fieldPath(chain: readonly unknown[]): string {
  let path = '';
  for (let i = 0; i < chain.length - 1; i++) {
    const node = chain[i];
    const next = chain[i + 1];
    if (isPair(node) && next !== node.key) {
      const key = isScalar(node.key) ? String(node.key.value) : '?';
      path += path ? `.${key}` : key;
    } else if (isSeq(node)) {
      path += `[${node.items.indexOf(next as Node)}]`;
    }
  }
  return path || '(root)';
}

const describe = (v: unknown) =>
  typeof v === 'string' ? `the string ${JSON.stringify(v)}` : `the ${typeof v} ${String(v)}`;

/**
 * Every unquoted scalar whose meaning differs between kubectl (YAML 1.1: `y`, `no`, `on`, `off`
 * are booleans, `0755` is octal, `1_000` a number) and kubetune (YAML 1.2, like the yaml
 * package reads it), with its line. Files with syntax errors yield none; the parser reports those.
 */
export function yaml11Differences(text: string): Yaml11Difference[] {
  const lines = new LineCounter();
  const as12 = parseAllDocuments(text, { lineCounter: lines });
  const as11 = parseAllDocuments(text, { version: '1.1', customTags: kubectlTags });
  if (!Array.isArray(as12) || !Array.isArray(as11) || as12.some((d) => d.errors.length > 0)) return [];
  const modern = plainScalars(as12);
  const legacy = plainScalars(as11);
  const found: Yaml11Difference[] = [];
  // Both parses see the same nodes in the same order; only how scalars resolve differs.
  modern.forEach(({ node, chain }, i) => {
    const old = legacy[i]?.node.value;
    if ((typeof old !== 'boolean' && typeof old !== 'number') || Object.is(old, node.value)) return;
    const source = node.source ?? String(node.value);
    const parent = chain[chain.length - 2];
    const isKey = isPair(parent) && (parent as Pair).key === node;
    const fix =
      typeof node.value === 'number'
        ? `write ${node.value} for the number, or quote it ("${source}") for text`
        : `quote it: "${source}"`;
    found.push({
      line: lines.linePos(node.range?.[0] ?? 0).line,
      path: fieldPath(chain),
      what: `${isKey ? 'key ' : ''}${source}`,
      message: `kubectl reads ${isKey ? 'key ' : ''}${source} as ${describe(old)} (YAML 1.1), kubetune as ${describe(node.value)}; ${fix}`,
    });
  });
  return found;
}
