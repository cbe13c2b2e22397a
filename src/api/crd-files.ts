import { stringify } from 'yaml';
import { CRD_FILES } from './crd.js';

const HEADER = '# Generated from src/api by `npm run gen:crds`. Do not edit.\n';

/** File name → YAML text of every CRD, exactly as committed under deploy/. */
export function renderCrdFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [file, build] of Object.entries(CRD_FILES))
    out[file] = HEADER + stringify(build(), { lineWidth: 0 });
  return out;
}
