// Writes deploy/crds (and the Helm chart's copy) from the zod schemas, and the chart's trial pod
// policy CEL from src/operator/policy. `--check` fails when the committed files differ, which is
// how a stale CRD or policy is caught in the test suite.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderCrdFiles } from '../src/api/crd-files.js';
import { POLICY_TEMPLATE_FILE, renderPolicyTemplate } from '../src/operator/policy/admission-cel.js';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
const check = process.argv.includes('--check');
const targets = ['deploy/crds', 'deploy/helm/kubetune/crds'].filter(
  (dir) => dir === 'deploy/crds' || existsSync(join(root, dirname(dir))),
);
const outputs: [string, string][] = targets.flatMap((dir) =>
  Object.entries(renderCrdFiles()).map(([file, text]): [string, string] => [join(dir, file), text]),
);
outputs.push([POLICY_TEMPLATE_FILE, renderPolicyTemplate()]);
let stale = 0;
for (const [file, text] of outputs) {
  const path = join(root, file);
  const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (current === text) continue;
  if (check) {
    console.error(`${file} is stale; run npm run gen:crds`);
    stale++;
  } else {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    console.log(`wrote ${file}`);
  }
}
process.exit(stale ? 1 : 0);
