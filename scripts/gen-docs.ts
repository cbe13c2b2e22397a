// Writes docs/study-reference.md from the zod schemas. `--check` fails when the committed file
// is stale (the unit test does the same comparison).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderStudyReference } from './study-reference.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const file = join(root, 'docs', 'study-reference.md');
const text = renderStudyReference();
const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
if (current === text) process.exit(0);
if (process.argv.includes('--check')) {
  console.error('docs/study-reference.md is stale; run npm run gen:docs');
  process.exit(1);
}
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, text);
console.log('wrote docs/study-reference.md');
