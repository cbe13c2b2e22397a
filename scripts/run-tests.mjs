// Runs node:test over one suite's *.test.ts files. Node 20's --test does not expand globs,
// so the file list is built here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const suite = process.argv[2];
if (!['unit', 'integration'].includes(suite)) {
  console.error('usage: node scripts/run-tests.mjs unit|integration [filter]');
  process.exit(2);
}
const filter = process.argv[3];

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (name.endsWith('.test.ts') && (!filter || path.includes(filter))) out.push(path);
  }
  return out;
}

const files = collect(join('test', suite));
if (files.length === 0) {
  console.error(`no test files found under test/${suite}${filter ? ` matching ${filter}` : ''}`);
  process.exit(1);
}
const concurrency = suite === 'integration' ? '1' : String(Math.max(1, Math.min(2, files.length)));
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(res.status ?? 1);
