// Writes deploy/crds (and the Helm chart's copy) from the zod schemas. `--check` fails when the
// committed files differ, which is how a stale CRD is caught in the test suite.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderCrdFiles } from '../src/api/crd-files.js';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
const check = process.argv.includes('--check');
const targets = ['deploy/crds', 'deploy/helm/kubetune/crds'].filter(
  (dir) => dir === 'deploy/crds' || existsSync(join(root, dirname(dir))),
);
let stale = 0;
for (const dir of targets) {
  for (const [file, text] of Object.entries(renderCrdFiles())) {
    const path = join(root, dir, file);
    const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    if (current === text) continue;
    if (check) {
      console.error(`${join(dir, file)} is stale; run npm run gen:crds`);
      stale++;
    } else {
      mkdirSync(join(root, dir), { recursive: true });
      writeFileSync(path, text);
      console.log(`wrote ${join(dir, file)}`);
    }
  }
}
process.exit(stale ? 1 : 0);
