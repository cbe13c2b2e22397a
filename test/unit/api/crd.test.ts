import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { renderCrdFiles } from '../../../src/api/crd-files.js';
import { toStructural } from '../../../src/api/crd.js';

type Node = Record<string, unknown>;

/** Walks a schema and lists every rule of a structural schema that a node breaks. */
function structuralViolations(node: Node, path = '$'): string[] {
  const out: string[] = [];
  if (node['type'] === undefined && node['x-kubernetes-preserve-unknown-fields'] !== true)
    out.push(`${path}: no type`);
  for (const k of ['$ref', 'anyOf', 'oneOf', 'allOf', 'not', 'uniqueItems', '$schema']) {
    if (k in node) out.push(`${path}: ${k}`);
  }
  if (node['additionalProperties'] !== undefined && node['properties'] !== undefined)
    out.push(`${path}: properties and additionalProperties`);
  for (const [name, child] of Object.entries((node['properties'] as Node | undefined) ?? {})) {
    out.push(...structuralViolations(child as Node, `${path}.${name}`));
  }
  if (node['items']) out.push(...structuralViolations(node['items'] as Node, `${path}[]`));
  if (typeof node['additionalProperties'] === 'object')
    out.push(...structuralViolations(node['additionalProperties'] as Node, `${path}.*`));
  return out;
}

describe('generated CRDs', () => {
  const files = renderCrdFiles();

  it('match the committed deploy/crds (run npm run gen:crds after changing src/api)', () => {
    for (const [file, text] of Object.entries(files)) {
      assert.equal(
        readFileSync(new URL(`../../../deploy/crds/${file}`, import.meta.url), 'utf8'),
        text,
        `deploy/crds/${file} is stale`,
      );
    }
  });

  for (const [file, text] of Object.entries(files)) {
    it(`${file} is a structural schema with a status subresource and printer columns`, () => {
      const crd = parse(text) as Node;
      const spec = crd['spec'] as Node;
      assert.equal(spec['group'], 'kubetune.io');
      const version = (spec['versions'] as Node[])[0]!;
      assert.equal(version['name'], 'v1alpha1');
      assert.deepEqual(version['subresources'], { status: {} });
      assert.ok((version['additionalPrinterColumns'] as unknown[]).length >= 3);
      assert.ok(((spec['names'] as Node)['shortNames'] as unknown[]).length > 0);
      const schema = (version['schema'] as Node)['openAPIV3Schema'] as Node;
      assert.deepEqual(structuralViolations(schema), []);
    });
  }

  it('carries the cross-field rules as CEL', () => {
    const text = files['kubetune.io_studies.yaml']!;
    for (const rule of ['self.min < self.max', 'self.min > 0', 'size(self.values) > 0', 'exists_one']) {
      assert.ok(text.includes(rule), `missing CEL rule containing ${rule}`);
    }
  });

  it('refuses schemas that cannot be structural', () => {
    assert.throws(() => toStructural({ anyOf: [{ type: 'string' }, { type: 'number' }] }), /anyOf/);
    assert.throws(() => toStructural({ type: 'object', properties: { x: {} } }), /\$\.x: every node/);
  });
});
